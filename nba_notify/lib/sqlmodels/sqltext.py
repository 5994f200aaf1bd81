"""Small lexical helpers over rendered SQL text: identifiers, statement shape, line lookup.

They understand just enough PostgreSQL lexing (quotes, comments, dollar quoting) to tell a
top-level ``;`` from one inside a string, which is what keeps a model "one SELECT"."""

from __future__ import annotations

import re

# Our own relation names become unquoted-safe identifiers: Dagster asset names and PostgreSQL
# names at once. 50 characters leave room for the "__build" suffix within PostgreSQL's 63.
MODEL_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,49}$")
# Names of existing tables passed to source(): anything PostgreSQL accepts unquoted.
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_DOLLAR_TAG_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def quote_identifier(name: str) -> str:
    """Double-quote an identifier already validated against :data:`IDENTIFIER_RE`."""
    if not IDENTIFIER_RE.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return '"' + name + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def strip_statement(sql: str) -> str:
    """Drop surrounding whitespace and trailing semicolons (``SELECT 1;`` is one statement)."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body


def top_level_semicolons(sql: str) -> list[int]:
    """Offsets of every ``;`` that is not inside a string, quoted identifier or comment."""
    found: list[int] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == ";":
            found.append(i)
            i += 1
        elif ch == "'":
            # E'...' strings allow backslash escapes; standard strings only double the quote.
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
            i = _skip_quoted(sql, i, "'", backslash=escapes)
        elif ch == '"':
            i = _skip_quoted(sql, i, '"', backslash=False)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch == "$":
            match = _DOLLAR_TAG_RE.match(sql, i)
            if match and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                end = sql.find(match.group(0), match.end())
                i = n if end < 0 else end + len(match.group(0))
            else:
                i += 1
        else:
            i += 1
    return found


def _skip_quoted(sql: str, start: int, quote: str, *, backslash: bool) -> int:
    i, n = start + 1, len(sql)
    while i < n:
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_block_comment(sql: str, start: int) -> int:
    """PostgreSQL block comments nest."""
    depth, i, n = 0, start, len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def line_of_offset(text: str, offset: int) -> int:
    """1-based line number of a 0-based character offset."""
    offset = max(0, min(offset, len(text)))
    return text.count("\n", 0, offset) + 1


def line_text(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""
