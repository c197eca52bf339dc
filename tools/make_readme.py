"""Write README.md from nbs/index.ipynb (nbdev_readme needs quarto, which cannot be installed offline).

Markdown cells are copied; code cells become ```python blocks without their `#|` directive lines; cells marked
`#| hide` and cells that only hold directives are dropped. Run by `make export`, whose sync check fails when README.md is out of date.
"""
import json
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text(encoding='utf-8'))
parts = []
for cell in nb['cells']:
    src = ''.join(cell['source']).strip()
    if cell['cell_type'] == 'markdown': parts.append(src)
    elif cell['cell_type'] == 'code' and not any(l.strip() == '#| hide' for l in src.splitlines()):
        code = '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')).strip()
        if code: parts.append(f'```python\n{code}\n```')
text = '<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook -->\n\n' + '\n\n'.join(parts) + '\n'
(root / 'README.md').write_text(text, encoding='utf-8')
