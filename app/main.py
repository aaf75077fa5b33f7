"""migflow's what-if app: ``migflow app``, or ``streamlit run app/main.py`` once migflow is
installed (the pages import ``migflow.app``)."""

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent

# the icon is a file served by the app: a font or emoji icon would be fetched from another
# host, which an offline ministry machine cannot reach
st.set_page_config(
    page_title="migflow: what if?", page_icon=str(HERE / "data" / "icon.png"), layout="wide"
)

pages = [
    st.Page(HERE / "pages" / "whatif.py", title="What if", icon=":material/explore:", default=True),
    st.Page(HERE / "pages" / "compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page(HERE / "pages" / "explain.py", title="How it works", icon=":material/menu_book:"),
]
if (HERE / "pages" / "sweeps.py").is_file():  # written by the sweeps feature, when present
    pages.append(st.Page(HERE / "pages" / "sweeps.py", title="Sweeps", icon=":material/science:"))
st.navigation(pages).run()
