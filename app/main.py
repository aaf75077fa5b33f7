"""migflow's what-if app: ``migflow app``, or ``streamlit run app/main.py``."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run app/main.py` from a plain checkout
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="migflow: what if?", page_icon=":material/public:", layout="wide")

pages = [
    st.Page(HERE / "pages" / "whatif.py", title="What if", icon=":material/explore:", default=True),
    st.Page(HERE / "pages" / "compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page(HERE / "pages" / "explain.py", title="How it works", icon=":material/menu_book:"),
]
if (HERE / "pages" / "sweeps.py").is_file():  # written by the sweeps feature, when present
    pages.append(st.Page(HERE / "pages" / "sweeps.py", title="Sweeps", icon=":material/science:"))
st.navigation(pages).run()
