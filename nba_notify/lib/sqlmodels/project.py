"""Load a dbt-like SQL project: render every file with Jinja2, record what it refers to,
validate its header, and order the models by their dependencies.

Layout (``dbt_like_sql/``)::

    models/<folder>/<name>.sql   a SELECT; becomes relation <schema>.<name> and asset <name>
    checks/<name>.sql            a query returning offending rows; becomes an asset check
    sources.yml                  source(schema, table) -> the Dagster asset writing it

Dependencies are discovered by *rendering* each template with recording ``ref()``,
``source()`` and ``config()`` functions (never by regex), so references inside Jinja control
flow count exactly when they are rendered. Every problem found while loading is reported with
the file and the template line, all problems at once, as one VALIDATION ``PipelineError``.
"""

from __future__ import annotations

import bisect
import difflib
import graphlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels.sources import (
    AssetKeyPath,
    SourceTable,
    parse_asset_key,
    parse_sources,
    read_sources_file,
)
from nba_notify.lib.sqlmodels.sqltext import (
    IDENTIFIER_RE,
    MODEL_NAME_RE,
    qualified,
    strip_statement,
    top_level_semicolons,
)

PROJECT_DIR_NAME = "dbt_like_sql"
PROJECT_DIR_ENV = "NBA_NOTIFY_SQL_DIR"
DEFAULT_SCHEMA = "analytics"
ROOT_GROUP = "sql_models"
DEFAULT_SAMPLE_ROWS = 20
FIX_THE_FILE = (
    "Fix the named file(s) in the SQL project (see dbt_like_sql/README.md) and reload the "
    "definitions; retrying cannot help."
)

MATERIALIZATIONS = ("view", "table")
SEVERITIES = ("ERROR", "WARN")
# What Dagster accepts as a group name and as an asset tag key.
GROUP_RE = re.compile(r"^[A-Za-z0-9_]{1,63}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
_MODEL_CONFIG_KEYS = {"materialized", "description", "group", "tags"}
_CHECK_CONFIG_KEYS = {"asset", "severity", "description", "blocking", "sample_rows"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RefCall:
    name: str
    line: int | None


@dataclass(frozen=True)
class SourceCall:
    schema: str
    table: str
    line: int | None


@dataclass(frozen=True)
class ModelConfig:
    materialized: str = "view"
    description: str | None = None
    group: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckConfig:
    asset: str
    severity: str = "ERROR"
    description: str | None = None
    blocking: bool = True
    sample_rows: int = DEFAULT_SAMPLE_ROWS


@dataclass(frozen=True)
class SqlFile:
    """What every project file has: where it is, its text, and what rendering it produced."""

    name: str
    path: Path
    relpath: str
    source_text: str
    rendered_sql: str
    refs: tuple[RefCall, ...]
    sources: tuple[SourceCall, ...]
    # Template line of each line of rendered_sql (None when unknown).
    line_origins: tuple[int | None, ...]

    def template_line(self, rendered_line: int) -> int | None:
        if 1 <= rendered_line <= len(self.line_origins):
            return self.line_origins[rendered_line - 1]
        return None

    @property
    def ref_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(ref.name for ref in self.refs))

    @property
    def source_ids(self) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys((s.schema, s.table) for s in self.sources))


@dataclass(frozen=True)
class SqlModel(SqlFile):
    schema: str = DEFAULT_SCHEMA
    folder: str = ""
    config: ModelConfig = field(default_factory=ModelConfig)

    @property
    def relation(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def materialized(self) -> str:
        return self.config.materialized

    @property
    def group_name(self) -> str:
        if self.config.group:
            return self.config.group
        return self.folder.split("/")[0] if self.folder else ROOT_GROUP


@dataclass(frozen=True)
class SqlCheck(SqlFile):
    config: CheckConfig = field(default_factory=lambda: CheckConfig(asset=""))
    # The asset the check is attached to: an SQL model's name or any (Python) asset key.
    target: AssetKeyPath = ()
    target_is_model: bool = False


@dataclass(frozen=True)
class SqlProject:
    root: Path
    schema: str
    models: Mapping[str, SqlModel]  # in dependency order: every model after its refs
    checks: Mapping[str, SqlCheck]
    sources: Mapping[tuple[str, str], SourceTable]

    @property
    def model_order(self) -> tuple[str, ...]:
        return tuple(self.models)

    def source(self, schema: str, table: str) -> SourceTable:
        return self.sources[(schema, table)]

    def downstream_of(self, name: str) -> tuple[str, ...]:
        """Every model depending on ``name``, directly or not, in dependency order."""
        reached = {name}
        for model in self.models.values():
            if any(ref in reached for ref in model.ref_names):
                reached.add(model.name)
        return tuple(m for m in self.models if m in reached and m != name)


@dataclass(frozen=True)
class Problem:
    relpath: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.relpath}:{self.line}" if self.line else self.relpath
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- locating


def find_project_dir(start: Path | None = None) -> Path:
    """``$NBA_NOTIFY_SQL_DIR``, else the first ``dbt_like_sql/`` walking up from the package
    (the project lives next to the package, as a dbt project sits next to a Dagster one)."""
    override = os.environ.get(PROJECT_DIR_ENV)
    if override:
        return Path(override).resolve()
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        candidate = parent / PROJECT_DIR_NAME
        if candidate.is_dir():
            return candidate
    raise PipelineError(
        ErrorCategory.VALIDATION,
        f"no {PROJECT_DIR_NAME}/ directory above {here}; install the package in editable mode "
        f"(pip install -e .) or set {PROJECT_DIR_ENV}",
        details={"searched_from": str(here)},
    )


# --------------------------------------------------------------------------- rendering


class _Recorder:
    """The functions a template sees while it is parsed. They record each call with the
    template line it came from and return the relation name the SQL should contain."""

    def __init__(
        self,
        template_filename: str,
        *,
        relpath: str,
        schema: str,
        model_names: set[str],
        sources: Mapping[tuple[str, str], SourceTable],
        problems: list[Problem],
    ) -> None:
        self._template_filename = template_filename
        self._template: jinja2.Template | None = None
        self._relpath = relpath
        self._schema = schema
        self._model_names = model_names
        self._sources = sources
        self._problems = problems
        self.refs: list[RefCall] = []
        self.sources: list[SourceCall] = []
        self.configs: list[tuple[dict[str, Any], int | None]] = []

    def bind(self, template: jinja2.Template) -> None:
        self._template = template

    def _line(self) -> int | None:
        """The template line of the innermost frame executing this file's compiled code.
        Jinja compiles templates to Python whose code carries the template's filename and
        a Python-line -> template-line table."""
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self._template_filename and self._template:
                return self._template.get_corresponding_lineno(frame.f_lineno)
            frame = frame.f_back
        return None

    def _problem(self, line: int | None, message: str) -> None:
        self._problems.append(Problem(self._relpath, line, message))

    def ref(self, name: Any) -> str:
        line = self._line()
        if not isinstance(name, str):
            self._problem(line, f"ref() takes a model name, got {name!r}")
            return "NULL"
        self.refs.append(RefCall(name, line))
        if name not in self._model_names:
            close = difflib.get_close_matches(name, sorted(self._model_names), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            self._problem(line, f"unknown ref('{name}'): there is no models/**/{name}.sql{hint}")
            return "NULL"
        return qualified(self._schema, name)

    def source(self, schema: Any, table: Any) -> str:
        line = self._line()
        if not isinstance(schema, str) or not isinstance(table, str):
            self._problem(line, f"source() takes two names, got {schema!r}, {table!r}")
            return "NULL"
        self.sources.append(SourceCall(schema, table, line))
        declared = self._sources.get((schema, table))
        if declared is None:
            self._problem(
                line,
                f"source('{schema}', '{table}') is not declared in sources.yml "
                "(add it with the asset key of the asset that writes the table)",
            )
            return "NULL"
        return declared.relation

    def config(self, **options: Any) -> str:
        self.configs.append((options, self._line()))
        return ""


def _environment(root: Path) -> jinja2.Environment:
    # StrictUndefined: a typo in a variable name is an error with a line, not an empty string.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def _template_line(exc: BaseException, filename: str) -> int | None:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


@dataclass
class _Rendered:
    rendered_sql: str
    recorder: _Recorder
    config_line: int | None
    # (offset in rendered_sql, template line) for every chunk Jinja produced, in order.
    chunks: list[tuple[int, int]]

    def template_line_at(self, offset: int) -> int | None:
        """The template line that produced the character at ``offset``: the chunk's line
        plus the newlines inside the chunk before it."""
        index = bisect.bisect_right(self.chunks, (offset, sys.maxsize)) - 1
        if index < 0:
            return None
        start, line = self.chunks[index]
        return line + self.rendered_sql.count("\n", start, offset)


def _generator_line(template: jinja2.Template, generator: Any) -> int:
    """Template line of the ``yield`` a (suspended) render generator stopped at: follow
    ``yield from`` delegation to the innermost frame running this template's code."""
    line = 1
    current = generator
    while current is not None and getattr(current, "gi_frame", None) is not None:
        frame = current.gi_frame
        if frame.f_code.co_filename == template.filename:
            line = template.get_corresponding_lineno(frame.f_lineno)
        current = getattr(current, "gi_yieldfrom", None)
    return line


def _data_token_lines(env: jinja2.Environment, path: Path) -> dict[str, list[int]]:
    """Literal text of the template -> the lines where each such text starts."""
    lines: dict[str, list[int]] = {}
    for lineno, token_type, value in env.lex(path.read_text(encoding="utf-8")):
        if token_type == "data":
            lines.setdefault(value, []).append(lineno)
    return lines


def _chunk_line(part: str, marker: int, data_lines: Mapping[str, list[int]]) -> int:
    """Jinja's line table marks expressions and tags but not literal text, so literal text
    after a multi-line ``{{ config(...) }}`` inherits the expression's first line. Literal
    text is emitted verbatim: take the first identical literal at or after the marker."""
    candidates = [line for line in data_lines.get(part, ()) if line >= marker]
    return min(candidates) if candidates else marker


def _render(
    env: jinja2.Environment,
    path: Path,
    relpath: str,
    *,
    schema: str,
    model_names: set[str],
    sources: Mapping[tuple[str, str], SourceTable],
    problems: list[Problem],
    context: Callable[[_Recorder], dict[str, Any]],
) -> _Rendered | None:
    try:
        template = env.get_template(relpath)
    except jinja2.TemplateSyntaxError as exc:
        problems.append(Problem(relpath, exc.lineno, f"Jinja syntax error: {exc.message}"))
        return None
    recorder = _Recorder(
        template.filename or str(path),
        relpath=relpath,
        schema=schema,
        model_names=model_names,
        sources=sources,
        problems=problems,
    )
    recorder.bind(template)
    parts: list[str] = []
    chunks: list[tuple[int, int]] = []
    offset = 0
    data_lines = _data_token_lines(env, path)
    try:
        # generate() yields output chunk by chunk; noting where each one came from gives
        # a rendered-offset -> template-line map that survives multi-line headers and loops.
        generator = template.generate(**context(recorder))
        for part in generator:
            marker = _generator_line(template, generator)
            chunks.append((offset, _chunk_line(part, marker, data_lines)))
            parts.append(part)
            offset += len(part)
    except Exception as exc:
        line = _template_line(exc, template.filename or str(path))
        problems.append(Problem(relpath, line, f"{type(exc).__name__}: {exc}"))
        return None
    if len(recorder.configs) > 1:
        problems.append(Problem(relpath, recorder.configs[1][1], "config() called more than once"))
    config_line = recorder.configs[0][1] if recorder.configs else None
    return _Rendered("".join(parts), recorder, config_line, chunks)


def _statement_body(
    relpath: str, rendered: _Rendered, problems: list[Problem]
) -> tuple[str, tuple[int | None, ...]] | None:
    """The statement without surrounding blanks and trailing ``;``, and the template line
    of each of its lines."""
    text = rendered.rendered_sql
    leading = len(text) - len(text.lstrip())
    body = strip_statement(text)
    if not body:
        problems.append(Problem(relpath, None, "renders to no SQL (expected one SELECT)"))
        return None
    semicolons = top_level_semicolons(body)
    if semicolons:
        # A second statement would run inside CREATE VIEW ... AS / the check wrapper.
        problems.append(
            Problem(
                relpath,
                rendered.template_line_at(leading + semicolons[0]),
                "must be a single SELECT statement; found a second one after ';'",
            )
        )
        return None
    line_starts = [0] + [i + 1 for i, ch in enumerate(body) if ch == "\n"]
    origins = tuple(rendered.template_line_at(leading + start) for start in line_starts)
    return body, origins


# --------------------------------------------------------------------------- configs


def _model_config(
    relpath: str, options: dict[str, Any], line: int | None, problems: list[Problem]
) -> ModelConfig:
    def bad(message: str) -> ModelConfig:
        problems.append(Problem(relpath, line, f"config(): {message}"))
        return ModelConfig()

    unknown = set(options) - _MODEL_CONFIG_KEYS
    if unknown:
        return bad(f"unknown option(s) {sorted(unknown)}; allowed {sorted(_MODEL_CONFIG_KEYS)}")
    materialized = options.get("materialized", "view")
    if materialized not in MATERIALIZATIONS:
        return bad(f"materialized must be one of {MATERIALIZATIONS}, got {materialized!r}")
    group = options.get("group")
    if group is not None and not (isinstance(group, str) and GROUP_RE.match(group)):
        return bad(f"group must be a plain name (letters, digits, _), got {group!r}")
    tags = options.get("tags", ())
    if isinstance(tags, str) or not all(isinstance(tag, str) and TAG_RE.match(tag) for tag in tags):
        return bad(f"tags must be a list of names (letters, digits, _ . -), got {tags!r}")
    description = options.get("description")
    return ModelConfig(
        materialized=materialized,
        description=None if description is None else str(description),
        group=group,
        tags=tuple(tags),
    )


def _check_config(
    relpath: str, options: dict[str, Any], line: int | None, problems: list[Problem]
) -> CheckConfig | None:
    def bad(message: str) -> None:
        problems.append(Problem(relpath, line, f"config(): {message}"))

    unknown = set(options) - _CHECK_CONFIG_KEYS
    if unknown:
        return bad(f"unknown option(s) {sorted(unknown)}; allowed {sorted(_CHECK_CONFIG_KEYS)}")
    asset = options.get("asset")
    if not isinstance(asset, str) or not asset.strip():
        return bad("asset='<model or asset key>' is required: the asset this check guards")
    severity = str(options.get("severity", "ERROR")).upper()
    if severity not in SEVERITIES:
        return bad(f"severity must be one of {SEVERITIES}, got {options.get('severity')!r}")
    # Only ERROR failures can block downstream assets in Dagster, so that is the default.
    blocking = options.get("blocking", severity == "ERROR")
    if not isinstance(blocking, bool):
        return bad(f"blocking must be true or false, got {blocking!r}")
    sample_rows = options.get("sample_rows", DEFAULT_SAMPLE_ROWS)
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or not (1 <= sample_rows <= 1000):
        return bad(f"sample_rows must be an integer between 1 and 1000, got {sample_rows!r}")
    description = options.get("description")
    return CheckConfig(
        asset=asset.strip(),
        severity=severity,
        description=None if description is None else str(description),
        blocking=blocking,
        sample_rows=sample_rows,
    )


# --------------------------------------------------------------------------- graph


def dependency_order(
    edges: Mapping[str, tuple[str, ...]],
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Topological order of ``edges`` (model -> models it refs), or the first cycle found
    (``a -> b -> a``). Unknown names are ignored: they are reported separately."""
    sorter = graphlib.TopologicalSorter(
        {name: [ref for ref in refs if ref in edges] for name, refs in sorted(edges.items())}
    )
    try:
        return tuple(sorter.static_order()), None
    except graphlib.CycleError as exc:
        # graphlib gives the cycle walking predecessors (a <- b <- a); we report "ref" order.
        return (), tuple(reversed(exc.args[1]))


def _cycle_problem(cycle: tuple[str, ...], files: Mapping[str, SqlFile]) -> Problem:
    steps = []
    for current, following in zip(cycle, cycle[1:], strict=False):
        model = files[current]
        line = next((ref.line for ref in model.refs if ref.name == following), None)
        where = f"{model.relpath}:{line}" if line else model.relpath
        steps.append(f"{current} ({where} ref('{following}'))")
    chain = " -> ".join([*steps, cycle[-1]])
    first = files[cycle[0]]
    first_line = next((r.line for r in first.refs if len(cycle) > 1 and r.name == cycle[1]), None)
    return Problem(first.relpath, first_line, f"dependency cycle: {chain}")


# --------------------------------------------------------------------------- loading


def load_project(
    path: str | os.PathLike[str] | None = None,
    *,
    schema: str = DEFAULT_SCHEMA,
    sources: Mapping[str, Any] | None = None,
) -> SqlProject:
    """Parse the project at ``path`` (default: :func:`find_project_dir`).

    ``schema`` is the PostgreSQL schema models are built in; ``sources`` replaces the
    project's ``sources.yml`` (same shape). Raises a VALIDATION ``PipelineError`` listing
    every problem as ``file:line: message``."""
    root = Path(path).resolve() if path is not None else find_project_dir()
    if not IDENTIFIER_RE.match(schema):
        raise PipelineError(ErrorCategory.VALIDATION, f"invalid schema name {schema!r}")
    if not (root / "models").is_dir():
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"{root} is not a SQL project: it has no models/ directory",
            details={"project_dir": str(root)},
        )
    try:
        source_map = parse_sources(sources) if sources is not None else read_sources_file(root)
    except ValueError as exc:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"SQL project {root}: {exc}",
            recovery=FIX_THE_FILE,
            details={"project_dir": str(root)},
        ) from None

    problems: list[Problem] = []
    model_paths = _sql_files(root, "models", problems)
    check_paths = _sql_files(root, "checks", problems)
    loader = _Loader(root, schema, set(model_paths), source_map, problems)
    models = {m.name: m for m in map(loader.model, model_paths.values()) if m is not None}
    checks = {c.name: c for c in map(loader.check, check_paths.values()) if c is not None}
    order = loader.order(models)
    if problems:
        raise project_error(root, problems)
    return SqlProject(
        root=root,
        schema=schema,
        models={name: models[name] for name in order},
        checks=dict(sorted(checks.items())),
        sources=source_map,
    )


@dataclass
class _Loader:
    """Parses one file at a time, collecting problems instead of stopping at the first."""

    root: Path
    schema: str
    model_names: set[str]
    sources: Mapping[tuple[str, str], SourceTable]
    problems: list[Problem]
    env: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = _environment(self.root)

    def _render(self, path: Path, extra: dict[str, Any]) -> tuple[str, _Rendered] | None:
        relpath = path.relative_to(self.root).as_posix()
        rendered = _render(
            self.env,
            path,
            relpath,
            schema=self.schema,
            model_names=self.model_names,
            sources=self.sources,
            problems=self.problems,
            context=lambda r: {
                "ref": r.ref,
                "source": r.source,
                "config": r.config,
                "schema": self.schema,
                **extra,
            },
        )
        return None if rendered is None else (relpath, rendered)

    def model(self, path: Path) -> SqlModel | None:
        name = path.stem
        parsed = self._render(path, {"this": qualified(self.schema, name)})
        if parsed is None:
            return None
        relpath, rendered = parsed
        statement = _statement_body(relpath, rendered, self.problems)
        options = rendered.recorder.configs[0][0] if rendered.recorder.configs else {}
        config = _model_config(relpath, options, rendered.config_line, self.problems)
        for declared in self.sources.values():
            if (name,) in declared.asset_keys:
                self.problems.append(
                    Problem(
                        relpath,
                        None,
                        f"model name '{name}' is also the asset key of {declared.label} "
                        "in sources.yml; rename the model",
                    )
                )
        folder = path.parent.relative_to(self.root / "models").as_posix()
        folder = "" if folder == "." else folder
        if not config.group and folder and not GROUP_RE.match(folder.split("/")[0]):
            self.problems.append(
                Problem(
                    relpath,
                    None,
                    f"folder '{folder.split('/')[0]}' cannot be a Dagster group name "
                    "(letters, digits, _): rename it or set config(group=...)",
                )
            )
        if statement is None:
            return None
        body, origins = statement
        return SqlModel(
            name=name,
            path=path,
            relpath=relpath,
            source_text=path.read_text(encoding="utf-8"),
            rendered_sql=body,
            refs=tuple(rendered.recorder.refs),
            sources=tuple(rendered.recorder.sources),
            line_origins=origins,
            schema=self.schema,
            folder=folder,
            config=config,
        )

    def check(self, path: Path) -> SqlCheck | None:
        parsed = self._render(path, {})
        if parsed is None:
            return None
        relpath, rendered = parsed
        statement = _statement_body(relpath, rendered, self.problems)
        if not rendered.recorder.configs:
            self.problems.append(Problem(relpath, 1, "a check needs {{ config(asset='<asset it guards>') }}"))
            return None
        options, line = rendered.recorder.configs[0]
        config = _check_config(relpath, options, line, self.problems)
        if config is None or statement is None:
            return None
        body, origins = statement
        try:
            target = parse_asset_key(config.asset)
        except ValueError as exc:
            self.problems.append(Problem(relpath, line, f"config(): {exc}"))
            return None
        return SqlCheck(
            name=path.stem,
            path=path,
            relpath=relpath,
            source_text=path.read_text(encoding="utf-8"),
            rendered_sql=body,
            refs=tuple(rendered.recorder.refs),
            sources=tuple(rendered.recorder.sources),
            line_origins=origins,
            config=config,
            target=target,
            target_is_model=config.asset in self.model_names,
        )

    def order(self, models: Mapping[str, SqlModel]) -> tuple[str, ...]:
        order, cycle = dependency_order({n: m.ref_names for n, m in models.items()})
        if cycle:
            self.problems.append(_cycle_problem(cycle, models))
        return order


def _sql_files(root: Path, kind: str, problems: list[Problem]) -> dict[str, Path]:
    """``name -> path`` for ``root/kind/**/*.sql``; names are file stems and must be unique."""
    found: dict[str, Path] = {}
    directory = root / kind
    if not directory.is_dir():
        return found
    for path in sorted(directory.rglob("*.sql")):
        relpath = path.relative_to(root).as_posix()
        name = path.stem
        if not MODEL_NAME_RE.match(name):
            problems.append(
                Problem(relpath, None, "file name must be lower_snake_case, at most 50 characters")
            )
            continue
        if name in found:
            other = found[name].relative_to(root).as_posix()
            problems.append(Problem(relpath, None, f"duplicate {kind[:-1]} name '{name}' ({other})"))
            continue
        found[name] = path
    return found


def project_error(root: Path, problems: list[Problem]) -> PipelineError:
    listing = "\n".join(f"  {problem}" for problem in problems)
    return PipelineError(
        ErrorCategory.VALIDATION,
        f"SQL project {root} has {len(problems)} problem(s):\n{listing}",
        recovery=FIX_THE_FILE,
        details={
            "project_dir": str(root),
            "problems": [{"file": p.relpath, "line": p.line, "message": p.message} for p in problems],
        },
    )
