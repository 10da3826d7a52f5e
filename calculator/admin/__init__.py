"""Knowledge management for admins (the app puts it behind `check_credentials`): uploads, re-indexing,
the catalog validation report. See docs/ARCHITECTURE.md § Officials API."""
from calculator.admin.auth import admin_enabled, check_credentials
from calculator.admin.catalog_status import catalog_report
from calculator.admin.jobs import IngestStatus, ingest_status, start_ingest, wait_ingest
from calculator.admin.uploads import SafeUpload, max_upload_bytes, safe_name, save_upload, uploads_dir, validate_upload

__all__ = ["IngestStatus", "SafeUpload", "admin_enabled", "catalog_report", "check_credentials", "ingest_status",
           "max_upload_bytes", "safe_name", "save_upload", "start_ingest", "uploads_dir",
           "validate_upload", "wait_ingest"]
