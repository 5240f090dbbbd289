"""Plain-language building blocks for alerts.

- `facts`: what a record says that wording and caveats need (route, comparison group, cell
  type, time window, key eligibility rules), read conservatively;
- `words`: phrases from the `alerts` catalog (titles, phases, who can join, design);
- `measure`: reading-level scores of a rendered message.
"""
