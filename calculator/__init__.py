"""许昌惠企政策计算器: rules-as-data eligibility engine plus cited retrieval over policy texts.

The library is usable without the UI: `app.py` and `python -m calculator` are thin shells over it.
"""
