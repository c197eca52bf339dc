"""Write the index of docs/results.md from the records in docs/results/ (one Markdown file per experiment).

A record opens with its title and the fields of `FIELDS` as `- **Field:** text` lines; the index is a table of
date, title (linked), question and conclusion, newest first, between the two `INDEX_*` markers of docs/results.md.
Run by `make export`, whose sync check fails when docs/results.md is out of date; `tests/test_docs.py` checks the
records' fields.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS, RECORDS = ROOT / 'docs' / 'results.md', ROOT / 'docs' / 'results'
FIELDS = ('Date', 'Question', 'Machine', 'Command', 'Figures', 'Conclusion')  # every record states these
INDEX_START, INDEX_END = '<!-- records: written by tools/results_index.py -->', '<!-- end of records -->'


def record_fields(path: Path) -> dict:
    "The title and the `- **Field:** text` fields of a record (a field's text may wrap onto indented lines)."
    text = path.read_text(encoding='utf-8')
    out = {'title': text.splitlines()[0].lstrip('# ').strip()}
    for m in re.finditer(r'^- \*\*(\w+):\*\* (.*(?:\n  .*)*)', text, re.M):
        out[m[1] if m[1] in FIELDS else m[1].removesuffix('s')] = ' '.join(m[2].split())  # 'Commands' is 'Command'
    return out


def index_table() -> str:
    rows = sorted((record_fields(p) | {'file': p.name} for p in RECORDS.glob('*.md')),
                  key=lambda r: (r.get('Date', ''), r['title']), reverse=True)
    lines = ['| date | record | question | conclusion |', '|---|---|---|---|']
    lines += [f"| {r.get('Date', '')} | [{r['title']}](results/{r['file']}) | {r.get('Question', '')} | {r.get('Conclusion', '')} |"
              for r in rows]
    return '\n'.join(lines)


def with_index(text: str) -> str:
    "docs/results.md's text with its index rewritten."
    start, end = text.index(INDEX_START) + len(INDEX_START), text.index(INDEX_END)
    return text[:start] + '\n' + index_table() + '\n' + text[end:]


if __name__ == '__main__':
    RESULTS.write_text(with_index(RESULTS.read_text(encoding='utf-8')), encoding='utf-8')
