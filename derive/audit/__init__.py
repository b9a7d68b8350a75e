"""Auditing a published sheet: a claims file lists what the sheet states, and each claim is
recomputed with the engine and judged (see :mod:`derive.audit.claims` for the file,
:mod:`derive.audit.judge` for the verdicts and reasons).

```python
from derive.audit import read_claims, audit, render_text
claims = read_claims("audits/seed-000.toml")
findings = audit(claims, "en", timeout=5.0)
print(render_text(claims, findings, "en"))
```
"""

from .claims import ClaimsError, ClaimsFile, read_claims
from .judge import REASONS, Finding, audit
from .report import counts, render_text, to_json

__all__ = ["REASONS", "ClaimsError", "ClaimsFile", "Finding", "audit", "counts", "read_claims", "render_text",
           "to_json"]
