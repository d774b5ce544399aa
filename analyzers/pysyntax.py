"""A compact, serialisable summary of one Python module, built from its tree-sitter tree.

Framework extractors read this summary instead of the syntax tree: imports resolved to qualified names,
classes (bases, keywords, body assignments, nested classes, methods), functions (decorators, parameters,
the calls and returns in their bodies), module-level assignments and calls, and comments. Expressions are
kept as small `Expr` records (names, calls, constants, subscripts, ...), not as nodes, so the summary can be
cached on disk and shipped between processes.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from analyzers.model import Position, Span
from analyzers.parsing import SourceText, captures, parse

# --------------------------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Expr:
    span: Span


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """An identifier or a dotted chain of identifiers: `Column`, `sa.Column`, `settings.DATABASES`."""

    dotted: str


@dataclass(frozen=True, slots=True)
class Attr(Expr):
    """An attribute of something that is not a plain name, e.g. `db.query(Order).all`."""

    value: Expr
    attr: str


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: Expr
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...]
    # The position of the closing parenthesis: where a keyword argument can be appended.
    close: Position
    # `*args` / `**kwargs` in the call
    star: bool = False

    def kwarg(self, name: str) -> Expr | None:
        for key, value in self.kwargs:
            if key == name:
                return value
        return None

    @property
    def func_name(self) -> str:
        """The dotted name of the callee, or its last attribute for chained calls (`...all` → `all`)."""
        if isinstance(self.func, Name):
            return self.func.dotted
        if isinstance(self.func, Attr):
            return self.func.attr
        return ""


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class FString(Expr):
    text: str


@dataclass(frozen=True, slots=True)
class Subscript(Expr):
    value: Expr
    index: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Seq(Expr):
    kind: str  # "list" | "tuple" | "set" | "dict"
    items: tuple[Expr, ...]
    # For dicts: the keys, aligned with items
    keys: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Lambda(Expr):
    body: Expr


@dataclass(frozen=True, slots=True)
class Raw(Expr):
    kind: str
    text: str


# --------------------------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assign:
    targets: tuple[str, ...]
    annotation: Expr | None
    value: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    annotation: Expr | None
    default: Expr | None
    kind: str  # "positional" | "keyword_only" | "var_positional" | "var_keyword"
    span: Span


@dataclass(frozen=True, slots=True)
class Comparison:
    """One link of a comparison (`a < b <= c` has two): `left op right`."""

    left: Expr
    op: str  # "<", "<=", ">" or ">="
    right: Expr


@dataclass(frozen=True, slots=True)
class Condition:
    """The test of an `if` or `elif` in a function body that orders two values, and the block it guards.

    `comparisons` are the ordering comparisons (`<`, `<=`, `>`, `>=`; not `==`, `in`, `is`) the test is built
    of, through `and`, `or` and parentheses, with a `not` above them folded into their operators
    (`not limit <= 100` reads `limit > 100`). Which of them must hold together is not kept: enough to see
    what a guard bounds (`if limit > MAX: raise ...`).
    """

    comparisons: tuple[Comparison, ...]
    body: Span
    # A raise statement in the block (outside nested functions and classes).
    raises: bool


@dataclass(frozen=True, slots=True)
class ExceptClause:
    """One `except` clause of a try statement, with what rules about error handling need of its body."""

    types: tuple[str, ...]  # the caught types as written (`("ValueError", "KeyError")`); `()` for a bare except
    name: str | None  # the `as` target, if any
    span: Span  # the whole clause
    body: Span  # the clause's block
    try_span: Span  # the whole try statement the clause belongs to
    # A `raise` statement in the body (outside nested functions and classes).
    raises: bool
    # The node types of the body's statements, in order ("pass_statement", "return_statement", ...).
    statements: tuple[str, ...]
    # Blocks of the body that run only for some exception types (`if isinstance(exc, Conflict): ...`).
    narrowed: tuple[Span, ...] = ()


@dataclass(slots=True)
class Function:
    name: str
    qualname: str
    decorators: list[Expr]
    params: list[Param]
    returns: Expr | None
    is_async: bool
    span: Span
    name_span: Span
    # Where a new parameter can be inserted: just before the closing parenthesis of the parameter list.
    params_close: Position
    # Outermost calls in the body (nested calls are inside them), in source order.
    calls: list[Call] = field(default_factory=list)
    # Values of `return` statements (None for a bare return).
    returns_values: list[Expr | None] = field(default_factory=list)
    # Assignments in the body.
    assigns: list[Assign] = field(default_factory=list)
    # Spans of loops (for/while/comprehensions) in the body.
    loops: list[Span] = field(default_factory=list)
    # Spans of `with` statements in the body, with their context expressions.
    withs: list[tuple[Span, tuple[Expr, ...]]] = field(default_factory=list)
    # Spans of try statements, with (handler type text, handler span, handler body has raise) triples.
    handlers: list[tuple[str, Span, bool]] = field(default_factory=list)
    # The class the function is a method of, if any.
    owner: str | None = None
    body_indent: str = "    "
    # Loops with what runs once before them: (loop span, the iterable a for/comprehension evaluates once
    # (None for while), the names it binds). A call inside the loop span but outside the iterable repeats.
    loop_sources: list[tuple[Span, Expr | None, tuple[str, ...]]] = field(default_factory=list)
    # if/elif/else and match statements: the spans of their mutually exclusive bodies.
    branches: list[tuple[Span, ...]] = field(default_factory=list)
    # Spans of return and raise statements: where a path through the body ends.
    exits: list[Span] = field(default_factory=list)
    # Augmented assignments in the body (`sql += " AND ..."`), with the right side as value.
    augmented: list[Assign] = field(default_factory=list)
    # The except clauses of try statements in the body, with their bodies (see `ExceptClause`).
    excepts: list[ExceptClause] = field(default_factory=list)
    # The tests of if/elif statements in the body that order two values (see `Condition`).
    conditions: list[Condition] = field(default_factory=list)
    # Imports in the body itself (`from .api import router` inside a function that mounts it lazily):
    # local name -> qualified name, as `Module.imports`.
    imports: dict[str, str] = field(default_factory=dict)

    def resolve(self, dotted: str) -> str | None:
        """The qualified name `dotted` refers to through the body's own imports, or None when they do not
        bind its first part."""
        head, dot, rest = dotted.partition(".")
        target = self.imports.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if dot and rest else target


@dataclass(slots=True)
class Class:
    name: str
    qualname: str
    bases: list[Expr]
    keywords: dict[str, Expr]
    decorators: list[Expr]
    assigns: list[Assign]
    classes: list[Class]
    methods: list[Function]
    span: Span
    name_span: Span
    # The first line after the class body's last statement and the body's indentation: where a new
    # field can be inserted.
    body_end: Position
    body_indent: str

    def nested(self, name: str) -> Class | None:
        return next((cls for cls in self.classes if cls.name == name), None)

    def assigned(self, name: str) -> Expr | None:
        for assign in self.assigns:
            if name in assign.targets:
                return assign.value
        return None


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    column: int
    text: str
    # Nothing but whitespace before it on its line (a suppression there also covers the next line).
    own_line: bool = True


@dataclass(slots=True)
class Module:
    module: str  # dotted module name, e.g. "app.models.order"
    path: str
    imports: dict[str, str]  # local name -> qualified name
    classes: list[Class]
    functions: list[Function]  # every function, methods and nested ones included
    assigns: list[Assign]  # module level
    calls: list[Call]  # module-level expression statements that are calls
    comments: list[Comment]
    has_errors: bool
    line_count: int
    is_package_init: bool = False
    # The 0-based line after the last top-level import (or after the docstring): where a fix adds imports.
    imports_end: int = 0
    # Module-level augmented assignments (`urlpatterns += router.urls`), with `+=`'s right side as value.
    augmented: list[Assign] = field(default_factory=list)
    # Except clauses of module-level try statements.
    excepts: list[ExceptClause] = field(default_factory=list)
    # Module-level if statements: (the condition as written, the whole statement's span). The
    # `if __name__ == "__main__":` guard is one of them.
    conditionals: list[tuple[str, Span]] = field(default_factory=list)
    # Assignments to a subscript anywhere in the module (`app.config["DEBUG"] = True`), target as written.
    item_assigns: list[Assign] = field(default_factory=list)

    def resolve(self, dotted: str) -> str:
        """The qualified name `dotted` refers to in this module (through its imports), or itself."""
        # Extractors ask this for nearly every name they meet: no partition or f-string for the common cases.
        dot = dotted.find(".")
        if dot < 0:
            target = self.imports.get(dotted)
            return dotted if target is None else target
        target = self.imports.get(dotted[:dot])
        if target is None:
            return dotted
        return target + dotted[dot:] if dot < len(dotted) - 1 else target

    def top_level_functions(self) -> list[Function]:
        return [fn for fn in self.functions if fn.qualname == fn.name]


# --------------------------------------------------------------------------------------------- building

_STRUCTURE_QUERY = """
(function_definition) @function
(class_definition) @class
(call) @call
(return_statement) @return
(assignment) @assign
(augmented_assignment) @augassign
(for_statement) @loop
(while_statement) @loop
(list_comprehension) @loop
(set_comprehension) @loop
(dictionary_comprehension) @loop
(generator_expression) @loop
(with_statement) @with
(try_statement) @try
(comment) @comment
(if_statement) @branch
(match_statement) @branch
(raise_statement) @exit
"""

_new_tuple = tuple.__new__
_start_byte = operator.attrgetter("start_byte")


def _ascii_span(node: Node) -> Span:
    # tuple.__new__ directly: NamedTuple's own __new__ is a Python function, slow at a million spans
    return _new_tuple(Span, (_new_tuple(Position, node.start_point), _new_tuple(Position, node.end_point)))


def _ascii_position(point: tuple[int, int]) -> Position:
    return _new_tuple(Position, point)


_STATEMENT_TYPES = frozenset(
    {
        "expression_statement",
        "return_statement",
        "if_statement",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "block",
        "module",
    }
)


class _Builder:
    def __init__(self, data: bytes, module: str, path: str) -> None:
        self.src = SourceText(data)
        self.module = module
        self.path = path
        self.span: Callable[[Node], Span] = self.src.span
        self.position: Callable[[tuple[int, int]], Position] = self.src.position
        self.text: Callable[[Node], str] = self.src.text
        if self.src.ascii:  # byte offsets are character offsets: slice one decoded string, no conversions
            chars = data.decode("ascii")
            self.text = lambda node: chars[node.start_byte : node.end_byte]
            self.span = _ascii_span
            self.position = _ascii_position
        self._outermost: dict[int, Expr | None] = {}  # node id -> Expr of the outermost calls built
        self._builders: dict[str, Callable[[Node, str, int], Expr | None]] = {
            "identifier": self._identifier,
            "attribute": self._attribute,
            "call": self._call,
            "string": self._string,
            "concatenated_string": self._concatenated_string,
            "integer": self._integer,
            "float": self._float,
            "true": self._constant,
            "false": self._constant,
            "none": self._constant,
            "subscript": self._subscript,
            "generic_type": self._subscript,
            "type": self._type,
            "list": self._sequence,
            "tuple": self._sequence,
            "set": self._sequence,
            "expression_list": self._sequence,
            "pattern_list": self._sequence,
            "tuple_pattern": self._sequence,
            "dictionary": self._dictionary,
            "binary_operator": self._binary_operator,
            "parenthesized_expression": self._first_child,
            "await": self._first_child,
            "lambda": self._lambda,
            "keyword_argument": self._keyword_argument,
        }

    # ---- expressions
    #
    # Summarising is the bulk of a cold scan, so these methods are written for speed: dispatch on the node
    # type through a table, spans and texts through per-file fast paths (ASCII sources need no column
    # conversion), and attribute chains of plain names read in one loop instead of one recursion per dot.

    def close(self) -> None:
        """Drop the table of bound methods, which points back at the builder: without it, every summary
        would leave a reference cycle for the garbage collector."""
        self._builders = {}

    def expr(self, node: Node | None, depth: int = 0) -> Expr | None:
        if node is None:
            return None
        kind = node.type
        if depth > 40:
            return Raw(self.span(node), kind, self.text(node)[:200])
        build = self._builders.get(kind)
        if build is None:
            return Raw(self.span(node), kind, self.text(node)[:300])
        return build(node, kind, depth)

    def outermost_call(self, node: Node) -> Expr | None:
        """An outermost call's `Expr`, kept so that an assignment, return or loop holding the very same call
        shares it instead of building it again (expressions are immutable)."""
        expr = self.expr(node)
        self._outermost[node.id] = expr
        return expr

    def shared_expr(self, node: Node | None) -> Expr | None:
        if node is None:
            return None
        found = self._outermost.get(node.id)
        return found if found is not None else self.expr(node)

    def _raw(self, node: Node, kind: str) -> Expr:
        return Raw(self.span(node), kind, self.text(node)[:300])

    def _identifier(self, node: Node, kind: str, depth: int) -> Expr | None:
        return Name(self.span(node), self.text(node))

    def _attribute(self, node: Node, kind: str, depth: int) -> Expr | None:
        # `a.b.c`: walk down the chain; when it ends in a plain name within the depth limit, the result is
        # the one dotted `Name` the recursive reading below would build, without its discarded inner parts.
        parts: list[str] = []
        current: Node | None = node
        while current is not None and current.type == "attribute" and depth + len(parts) < 40:
            attr_node = current.child_by_field_name("attribute")
            parts.append(self.text(attr_node) if attr_node is not None else "")
            current = current.child_by_field_name("object")
        if current is not None and current.type == "identifier" and depth + len(parts) <= 40:
            parts.append(self.text(current))
            parts.reverse()
            return Name(self.span(node), ".".join(parts))
        obj = self.expr(node.child_by_field_name("object"), depth + 1)
        attr_node = node.child_by_field_name("attribute")
        attr = self.text(attr_node) if attr_node is not None else ""
        if isinstance(obj, Name):
            return Name(self.span(node), f"{obj.dotted}.{attr}")
        if obj is None:
            return Raw(self.span(node), kind, self.text(node)[:200])
        return Attr(self.span(node), obj, attr)

    def _concatenated_string(self, node: Node, kind: str, depth: int) -> Expr | None:
        parts = [self.expr(child, depth + 1) for child in node.named_children]
        if all(isinstance(part, Const) for part in parts):
            return Const(self.span(node), "".join(str(part.value) for part in parts if isinstance(part, Const)))
        return FString(self.span(node), self.text(node))

    def _integer(self, node: Node, kind: str, depth: int) -> Expr | None:
        text = self.text(node).replace("_", "")
        try:
            return Const(self.span(node), int(text, 0))
        except ValueError:
            return Raw(self.span(node), kind, text)

    def _float(self, node: Node, kind: str, depth: int) -> Expr | None:
        try:
            return Const(self.span(node), float(self.text(node).replace("_", "")))
        except ValueError:
            return Raw(self.span(node), kind, self.text(node))

    def _constant(self, node: Node, kind: str, depth: int) -> Expr | None:
        return Const(self.span(node), True if kind == "true" else False if kind == "false" else None)

    def _type(self, node: Node, kind: str, depth: int) -> Expr | None:
        children = node.named_children
        return self.expr(children[0], depth + 1) if children else None

    def _sequence(self, node: Node, kind: str, depth: int) -> Expr | None:
        expr = self.expr
        items = tuple(e for e in [expr(child, depth + 1) for child in node.named_children] if e)
        return Seq(self.span(node), "tuple" if kind in ("expression_list", "pattern_list", "tuple_pattern") else kind,
                   items)

    def _dictionary(self, node: Node, kind: str, depth: int) -> Expr | None:
        keys: list[Expr] = []
        values: list[Expr] = []
        for pair in node.named_children:
            if pair.type != "pair":
                continue
            key = self.expr(pair.child_by_field_name("key"), depth + 1)
            value = self.expr(pair.child_by_field_name("value"), depth + 1)
            if key is not None and value is not None:
                keys.append(key)
                values.append(value)
        return Seq(self.span(node), "dict", tuple(values), tuple(keys))

    def _binary_operator(self, node: Node, kind: str, depth: int) -> Expr | None:
        left = self.expr(node.child_by_field_name("left"), depth + 1)
        right = self.expr(node.child_by_field_name("right"), depth + 1)
        operator = node.child_by_field_name("operator")
        if left is not None and right is not None:
            return BinOp(self.span(node), self.text(operator) if operator else "?", left, right)
        return self._raw(node, kind)

    def _first_child(self, node: Node, kind: str, depth: int) -> Expr | None:
        """Parentheses and `await` stand for the expression inside them."""
        children = node.named_children
        return self.expr(children[0], depth + 1) if children else self._raw(node, kind)

    def _lambda(self, node: Node, kind: str, depth: int) -> Expr | None:
        body = self.expr(node.child_by_field_name("body"), depth + 1)
        return Lambda(self.span(node), body) if body is not None else self._raw(node, kind)

    def _keyword_argument(self, node: Node, kind: str, depth: int) -> Expr | None:
        return self.expr(node.child_by_field_name("value"), depth + 1)

    def _string(self, node: Node, kind: str, depth: int) -> Expr | None:
        return self.string(node, self.span(node))

    def _subscript(self, node: Node, kind: str, depth: int) -> Expr | None:
        return self.subscript(node, self.span(node), depth)

    def _call(self, node: Node, kind: str, depth: int) -> Expr | None:
        return self.call(node, depth)

    def string(self, node: Node, span: Span) -> Expr:
        content: list[str] = []
        for child in node.named_children:
            kind = child.type
            if kind == "interpolation":
                return FString(span, self.text(node))
            if kind == "string_content" or kind == "escape_sequence":
                content.append(self.text(child))
        return Const(span, "".join(content))

    def subscript(self, node: Node, span: Span, depth: int) -> Expr:
        if node.type == "generic_type":
            children = node.named_children
            value = self.expr(children[0], depth + 1) if children else None
            index: list[Expr] = []
            for child in children[1:]:
                for inner in child.named_children if child.type == "type_parameter" else [child]:
                    expr = self.expr(inner, depth + 1)
                    if expr is not None:
                        index.append(expr)
            return Subscript(span, value or Raw(span, "generic", ""), tuple(index))
        value = self.expr(node.child_by_field_name("value"), depth + 1)
        subscripts = [child for child in node.children_by_field_name("subscript")]
        index = []
        for child in subscripts:
            expr = self.expr(child, depth + 1)
            if isinstance(expr, Seq) and expr.kind == "tuple":
                index.extend(expr.items)
            elif expr is not None:
                index.append(expr)
        return Subscript(span, value or Raw(span, "subscript", ""), tuple(index))

    def call(self, node: Node, depth: int) -> Expr:
        span = self.span(node)
        expr = self.expr
        text = self.text
        func = expr(node.child_by_field_name("function"), depth + 1)
        arguments = node.child_by_field_name("arguments")
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        star = False
        close = span.end
        if arguments is not None:
            line, column = self.position(arguments.end_point)
            close = _new_tuple(Position, (line, column - 1 if column > 0 else 0))
            for child in arguments.named_children:
                kind = child.type
                if kind == "keyword_argument":
                    key = child.child_by_field_name("name")
                    value = expr(child.child_by_field_name("value"), depth + 1)
                    if key is not None and value is not None:
                        kwargs.append((text(key), value))
                elif kind == "list_splat" or kind == "dictionary_splat":
                    star = True
                elif kind != "comment":
                    argument = expr(child, depth + 1)
                    if argument is not None:
                        args.append(argument)
        if func is None:
            func = Raw(span, "callee", "")
        return Call(span, func, tuple(args), tuple(kwargs), close, star)

    # ---- statements

    def params(self, node: Node | None) -> list[Param]:
        if node is None:
            return []
        params: list[Param] = []
        keyword_only = False
        for child in node.named_children:
            kind = child.type
            span = self.span(child)
            if kind == "identifier":
                params.append(Param(self.text(child), None, None,
                                    "keyword_only" if keyword_only else "positional", span))
            elif kind in ("typed_parameter", "default_parameter", "typed_default_parameter"):
                name_node = child.child_by_field_name("name")
                if name_node is None:  # typed_parameter wraps its name (or a splat) as the first child
                    name_node = child.named_children[0] if child.named_children else None
                if name_node is None:
                    continue
                if name_node.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                    inner = name_node.named_children[0] if name_node.named_children else name_node
                    params.append(Param(self.text(inner), self.expr(child.child_by_field_name("type")),
                                        None, "var_positional" if name_node.type == "list_splat_pattern"
                                        else "var_keyword", span))
                    keyword_only = True
                    continue
                params.append(Param(self.text(name_node), self.expr(child.child_by_field_name("type")),
                                    self.expr(child.child_by_field_name("value")),
                                    "keyword_only" if keyword_only else "positional", span))
            elif kind == "list_splat_pattern":
                inner = child.named_children[0] if child.named_children else child
                params.append(Param(self.text(inner), None, None, "var_positional", span))
                keyword_only = True
            elif kind == "dictionary_splat_pattern":
                inner = child.named_children[0] if child.named_children else child
                params.append(Param(self.text(inner), None, None, "var_keyword", span))
            elif kind == "keyword_separator":
                keyword_only = True
        return params

    def assign(self, node: Node) -> Assign | None:
        left = node.child_by_field_name("left")
        if left is None:
            return None
        if left.type in ("identifier", "attribute"):
            targets: tuple[str, ...] = (self.text(left),)
        elif left.type in ("pattern_list", "tuple_pattern"):
            targets = tuple(self.text(child) for child in left.named_children if child.type == "identifier")
        else:
            return None
        right = node.child_by_field_name("right")
        value = self.shared_expr(right) if right is not None and right.type != "assignment" else None
        if right is not None and right.type == "assignment":  # a = b = value
            inner = self.assign(right)
            if inner is not None:
                targets = targets + inner.targets
                value = inner.value
        return Assign(targets, self.expr(node.child_by_field_name("type")), value, self.span(node))

    def item_assign(self, node: Node) -> Assign | None:
        """An assignment to a subscript (`app.config["SECRET_KEY"] = ...`), which `assign` leaves out."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or left.type != "subscript" or right is None or right.type == "assignment":
            return None
        return Assign((self.text(left),), None, self.shared_expr(right), self.span(node))

    def except_clause(self, try_node: Node, clause: Node) -> ExceptClause:
        caught: Node | None = None
        name: str | None = None
        for child in clause.named_children:
            if child.type == "block":
                break
            if child.type != "comment":
                caught = child
        if caught is not None and caught.type == "as_pattern":
            target = next((child for child in caught.named_children if child.type == "as_pattern_target"), None)
            name = self.text(target) if target is not None else None
            caught = caught.named_children[0] if caught.named_children else None
        while caught is not None and caught.type == "parenthesized_expression" and caught.named_children:
            caught = caught.named_children[0]
        if caught is None:
            types: tuple[str, ...] = ()
        elif caught.type == "tuple":
            types = tuple(self.text(child) for child in caught.named_children if child.type != "comment")
        else:
            types = (self.text(caught),)
        block = next((child for child in clause.named_children if child.type == "block"), None)
        statements = tuple(child.type for child in block.named_children if child.type != "comment") \
            if block is not None else ()
        narrowed = tuple(self.span(body) for body in _isinstance_blocks(block, name)) \
            if block is not None and name else ()
        return ExceptClause(types, name, self.span(clause), self.span(block if block is not None else clause),
                            self.span(try_node), block is not None and _has_raise(block), statements, narrowed)

    def conditions(self, node: Node) -> Iterator[Condition]:
        """The if's test and each elif's, with the block each guards, where the test orders two values."""
        for clause in [node, *node.children_by_field_name("alternative")]:
            test = clause.child_by_field_name("condition")
            block = clause.child_by_field_name("consequence")
            if test is None or block is None:
                continue
            found: list[Comparison] = []
            self.comparisons(test, False, found, 0)
            if found:
                yield Condition(tuple(found), self.span(block), _has_raise(block))

    def comparisons(self, node: Node, negated: bool, into: list[Comparison], depth: int) -> None:
        kind = node.type
        if depth > 20:
            return
        if kind == "parenthesized_expression" and node.named_children:
            self.comparisons(node.named_children[0], negated, into, depth + 1)
        elif kind == "not_operator":
            argument = node.child_by_field_name("argument")
            if argument is not None:
                self.comparisons(argument, not negated, into, depth + 1)
        elif kind == "boolean_operator":
            for side in ("left", "right"):
                operand = node.child_by_field_name(side)
                if operand is not None:
                    self.comparisons(operand, negated, into, depth + 1)
        elif kind == "comparison_operator":
            operands = [child for child in node.children if child.is_named and child.type != "comment"]
            operators = [child.type for child in node.children if not child.is_named]
            for (left, right), op in zip(itertools.pairwise(operands), operators, strict=False):
                if op not in _NEGATED:
                    continue  # `==`, `in`, `is`: most tests, and no order to read (building them costs)
                left_expr, right_expr = self.expr(left), self.expr(right)
                if left_expr is not None and right_expr is not None:
                    into.append(Comparison(left_expr, _NEGATED[op] if negated else op, right_expr))

    def decorators(self, node: Node) -> list[Expr]:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return []
        result: list[Expr] = []
        for child in parent.named_children:
            if child.type == "decorator" and child.named_children:
                expr = self.expr(child.named_children[0])
                if expr is not None:
                    result.append(expr)
        return result

    def definition_span(self, node: Node) -> Span:
        """The span of a def/class including its decorators."""
        parent = node.parent
        if parent is not None and parent.type == "decorated_definition":
            return Span(self.position(parent.start_point), self.position(node.end_point))
        return self.span(node)

    def body_indent(self, body: Node | None) -> str:
        if body is None or not body.named_children:
            return "    "
        first = body.named_children[0]
        # The line holding the first statement; it starts `column` bytes before it (no table of line starts).
        data = self.src.data
        start = first.start_byte - first.start_point[1]
        end = data.find(b"\n", start)
        line = data[start : end if end >= 0 else len(data)].decode("utf-8", errors="replace")
        return line[: len(line) - len(line.lstrip())] or "    "


def _qualname(node: Node, src: SourceText) -> tuple[str, str | None]:
    """The dotted path of enclosing classes and functions, and the innermost enclosing class name."""
    parts: list[str] = []
    owner: str | None = None
    parent = node.parent
    direct = True
    while parent is not None:
        if parent.type in ("class_definition", "function_definition"):
            name_node = parent.child_by_field_name("name")
            name = src.text(name_node) if name_node is not None else "?"
            if parent.type == "class_definition":
                parts.append(name)
                if direct and owner is None:
                    owner = name
            else:
                parts.append(f"{name}.<locals>")
            direct = False
        elif parent.type not in ("block", "decorated_definition"):
            pass
        parent = parent.parent
    return ".".join(reversed(parts)), owner


def _import_table(root: Node, src: SourceText, module: str, is_package: bool) -> dict[str, str]:
    """The imports of a module (or of a function body: `root` is then the body block)."""
    imports: dict[str, str] = {}
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    for node in root.children:
        for statement in _import_statements(node):
            if statement.type == "import_statement":
                for child in statement.named_children:
                    if child.type == "dotted_name":
                        dotted = src.text(child)
                        imports[dotted.split(".")[0]] = dotted.split(".")[0]
                        imports[dotted] = dotted
                    elif child.type == "aliased_import":
                        imported = child.child_by_field_name("name")
                        alias = child.child_by_field_name("alias")
                        if imported is not None and alias is not None:
                            imports[src.text(alias)] = src.text(imported)
            elif statement.type == "import_from_statement":
                module_node = statement.child_by_field_name("module_name")
                if module_node is None:
                    continue
                if module_node.type == "relative_import":
                    text = src.text(module_node)
                    dots = len(text) - len(text.lstrip("."))
                    rest = text.lstrip(".")
                    base = package_parts[: max(0, len(package_parts) - (dots - 1))]
                    source_module = ".".join([*base, rest] if rest else base)
                else:
                    source_module = src.text(module_node)
                for child in statement.children_by_field_name("name"):
                    if child.type == "dotted_name":
                        name = src.text(child)
                        imports[name] = f"{source_module}.{name}" if source_module else name
                    elif child.type == "aliased_import":
                        name_node = child.child_by_field_name("name")
                        alias = child.child_by_field_name("alias")
                        if name_node is not None and alias is not None:
                            name = src.text(name_node)
                            imports[src.text(alias)] = f"{source_module}.{name}" if source_module else name
    return imports


def _import_statements(node: Node) -> list[Node]:
    """Import statements at module level, including those inside `if TYPE_CHECKING:` / try blocks."""
    if node.type in ("import_statement", "import_from_statement"):
        return [node]
    if node.type in ("if_statement", "try_statement", "block", "else_clause", "except_clause",
                     "finally_clause"):
        found: list[Node] = []
        for child in node.named_children:
            found.extend(_import_statements(child))
        return found
    return []


def _imports_end(root: Node) -> int:
    end = 0
    for node in root.children:
        if node.type in ("import_statement", "import_from_statement", "future_import_statement"):
            end = node.end_point[0] + 1
        elif end == 0 and node.type == "expression_statement" and node.named_children and \
                node.named_children[0].type == "string":
            end = node.end_point[0] + 1  # the module docstring
    return end


MAX_CLASS_NESTING = 32


def _starts_its_line(src: SourceText, node: Node) -> bool:
    byte_column = node.start_point[1]
    if byte_column == 0:
        return True
    return not src.data[node.start_byte - byte_column : node.start_byte].strip()


def summarize(data: bytes, module: str, path: str, tree: Tree | None = None) -> Module:
    """Parse Python source and summarise it. Never raises on bad input: broken code yields a partial summary."""
    if tree is None:  # the language server passes a tree it re-parsed incrementally from `data`
        tree = parse("python", data)
    root = tree.root_node
    b = _Builder(data, module, path)
    src = b.src
    is_package = path.endswith("__init__.py")
    imports = _import_table(root, src, module, is_package)

    found = captures("python", _STRUCTURE_QUERY, root)
    for nodes in found.values():  # captures come grouped by pattern, not in source order
        nodes.sort(key=_start_byte)
    functions_by_id: dict[int, Function] = {}
    classes_by_id: dict[int, Class] = {}
    ordered_functions: list[Function] = []

    for node in found.get("function", []):
        name_node = node.child_by_field_name("name")
        if name_node is None:
            continue
        name = b.text(name_node)
        prefix, owner = _qualname(node, src)
        parameters = node.child_by_field_name("parameters")
        params_close = b.position(parameters.end_point) if parameters is not None else b.position(
            name_node.end_point)
        params_close = Position(params_close.line, max(0, params_close.column - 1))
        first = node.children[0] if node.children else None
        function = Function(
            name=name,
            qualname=f"{prefix}.{name}" if prefix else name,
            decorators=b.decorators(node),
            params=b.params(parameters),
            returns=b.expr(node.child_by_field_name("return_type")),
            is_async=first is not None and first.type == "async",
            span=b.definition_span(node),
            name_span=b.span(name_node),
            params_close=params_close,
            owner=owner,
            body_indent=b.body_indent(node.child_by_field_name("body")),
        )
        body = node.child_by_field_name("body")
        if body is not None:
            function.imports = _import_table(body, src, module, is_package)
        functions_by_id[node.id] = function
        ordered_functions.append(function)

    class_nodes = found.get("class", [])
    for node in class_nodes:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            continue
        name = b.text(name_node)
        prefix, _ = _qualname(node, src)
        bases: list[Expr] = []
        keywords: dict[str, Expr] = {}
        superclasses = node.child_by_field_name("superclasses")
        if superclasses is not None:
            for child in superclasses.named_children:
                if child.type == "keyword_argument":
                    key = child.child_by_field_name("name")
                    value = b.expr(child.child_by_field_name("value"))
                    if key is not None and value is not None:
                        keywords[b.text(key)] = value
                else:
                    expr = b.expr(child)
                    if expr is not None:
                        bases.append(expr)
        body = node.child_by_field_name("body")
        assigns: list[Assign] = []
        if body is not None:
            for statement in body.named_children:
                if statement.type == "expression_statement" and statement.named_children:
                    inner = statement.named_children[0]
                    if inner.type == "assignment":
                        assign = b.assign(inner)
                        if assign is not None:
                            assigns.append(assign)
        body_end_row = (body.end_point[0] + 1) if body is not None else node.end_point[0] + 1
        # a body ending with a comment-only line still ends at the last statement's line
        classes_by_id[node.id] = Class(
            name=name,
            qualname=f"{prefix}.{name}" if prefix else name,
            bases=bases,
            keywords=keywords,
            decorators=b.decorators(node),
            assigns=assigns,
            classes=[],
            methods=[],
            span=b.definition_span(node),
            name_span=b.span(name_node),
            body_end=Position(body_end_row, 0),
            body_indent=b.body_indent(body),
        )

    # attach methods and nested classes to their classes
    top_classes: list[Class] = []
    nesting: dict[int, int] = {}
    for node in class_nodes:
        cls = classes_by_id.get(node.id)
        if cls is None:
            continue
        container = _enclosing(node, ("class_definition", "function_definition"))
        if container is not None and container.type == "class_definition" and container.id in classes_by_id:
            nesting[node.id] = nesting.get(container.id, 0) + 1
            # Absurdly deep nesting is dropped: no model needs it, and it would overflow pickling later.
            if nesting[node.id] <= MAX_CLASS_NESTING:
                classes_by_id[container.id].classes.append(cls)
        elif container is None:
            top_classes.append(cls)
    for node in found.get("function", []):
        fn = functions_by_id.get(node.id)
        if fn is None:
            continue
        container = _enclosing(node, ("class_definition", "function_definition"))
        if container is not None and container.type == "class_definition" and container.id in classes_by_id:
            classes_by_id[container.id].methods.append(fn)

    module_assigns: list[Assign] = []
    module_calls: list[Call] = []

    def owner_function(node: Node) -> Function | None:
        container = _enclosing_body(node)
        return functions_by_id.get(container.id) if container is not None else None

    for node in found.get("call", []):
        if not _is_outermost_call(node):
            continue
        fn = owner_function(node)
        if fn is None and _enclosing(node, ("class_definition", "function_definition")) is not None:
            continue  # a call in a class body or a parameter default: no list keeps it
        expr = b.outermost_call(node)
        if not isinstance(expr, Call):
            continue
        if fn is not None:
            fn.calls.append(expr)
        else:
            module_calls.append(expr)
    for node in found.get("assign", []):
        if node.parent is not None and node.parent.type == "assignment":
            continue  # the inner part of a chained assignment
        fn = owner_function(node)
        module_level = fn is None and node.parent is not None and node.parent.type == "expression_statement" \
            and _enclosing(node, ("class_definition",)) is None
        if fn is None and not module_level:
            continue  # class bodies keep their own assignments (above)
        assign = b.assign(node)
        if assign is None:
            continue
        if fn is not None:
            fn.assigns.append(assign)
        else:
            module_assigns.append(assign)
    module_augmented = [
        assign for assign in (b.assign(node) for node in found.get("augassign", [])
                              if owner_function(node) is None and _enclosing(node, ("class_definition",)) is None)
        if assign is not None
    ]
    for node in found.get("augassign", []):
        holder = owner_function(node)
        augmented = b.assign(node) if holder is not None else None
        if holder is not None and augmented is not None:
            holder.augmented.append(augmented)
    for node in found.get("return", []):
        fn = owner_function(node)
        if fn is not None:
            returned = node.named_children[0] if node.named_children else None
            fn.returns_values.append(b.shared_expr(returned) if returned is not None else None)
            fn.exits.append(b.span(node))
    for node in found.get("exit", []):
        holder = owner_function(node)
        if holder is not None:
            holder.exits.append(b.span(node))
    for node in found.get("loop", []):
        holder = owner_function(node)
        if holder is not None:
            holder.loops.append(b.span(node))
            loop_iterable, loop_targets = _loop_source(node)
            holder.loop_sources.append((b.span(node), b.shared_expr(loop_iterable),
                                        tuple(b.text(target) for target in loop_targets)))
    module_conditionals: list[tuple[str, Span]] = []
    for node in found.get("branch", []):
        holder = owner_function(node)
        if holder is not None:
            holder.branches.append(tuple(b.span(body) for body in _branch_bodies(node)))
            if node.type == "if_statement":
                holder.conditions.extend(b.conditions(node))
        elif node.type == "if_statement" and _enclosing(node, ("class_definition",)) is None:
            condition = node.child_by_field_name("condition")
            module_conditionals.append((b.text(condition)[:200] if condition is not None else "", b.span(node)))
    module_excepts: list[ExceptClause] = []
    for node in found.get("try", []):
        holder = owner_function(node)
        clauses = [b.except_clause(node, clause) for clause in node.named_children
                   if clause.type in ("except_clause", "except_group_clause")]
        if holder is not None:
            holder.excepts.extend(clauses)
        elif _enclosing(node, ("class_definition",)) is None:
            module_excepts.extend(clauses)
    item_assigns = [assign for assign in (b.item_assign(node) for node in found.get("assign", []))
                    if assign is not None]
    for node in found.get("with", []):
        fn = owner_function(node)
        if fn is not None:
            items: list[Expr] = []
            for clause in node.named_children:
                if clause.type == "with_clause":
                    for item in clause.named_children:
                        context = item.child_by_field_name("value")
                        expr = b.shared_expr(context if context is not None else item)
                        if isinstance(expr, Raw) and expr.kind == "as_pattern" and context is None:
                            pattern = item.named_children[0] if item.named_children else None
                            target = pattern.named_children[0] if pattern is not None and pattern.named_children \
                                else None
                            expr = b.expr(target) or expr
                        if expr is not None:
                            items.append(expr)
            fn.withs.append((b.span(node), tuple(items)))
    for node in found.get("try", []):
        fn = owner_function(node)
        if fn is None:
            continue
        for clause in node.named_children:
            if clause.type != "except_clause":
                continue
            type_text = ""
            for child in clause.named_children:
                if child.type != "block":
                    type_text = b.text(child)
                    break
            block = next((child for child in clause.named_children if child.type == "block"), None)
            reraises = block is not None and "raise" in b.text(block)
            fn.handlers.append((type_text, b.span(clause), reraises))

    for fn in ordered_functions:
        fn.calls.sort(key=lambda call: (call.span.start.line, call.span.start.column))

    comments = [
        Comment(node.start_point[0], b.position(node.start_point).column, b.text(node),
                own_line=_starts_its_line(src, node))
        for node in found.get("comment", [])
    ]
    b.close()
    return Module(
        module=module,
        path=path,
        imports=imports,
        classes=top_classes,
        functions=ordered_functions,
        assigns=module_assigns,
        calls=module_calls,
        comments=comments,
        has_errors=root.has_error,
        line_count=root.end_point[0] + 1,
        is_package_init=is_package,
        imports_end=_imports_end(root),
        augmented=module_augmented,
        excepts=module_excepts,
        conditionals=module_conditionals,
        item_assigns=item_assigns,
    )


def _enclosing(node: Node, types: tuple[str, ...]) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in types:
            return parent
        parent = parent.parent
    return None


def _enclosing_body(node: Node) -> Node | None:
    """The function whose body holds `node`; a parameter default belongs to the enclosing scope."""
    previous = node
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            body = parent.child_by_field_name("body")
            if body is not None and body.id == previous.id:
                return parent
        previous = parent
        parent = parent.parent
    return None


_COMPREHENSIONS = frozenset({"list_comprehension", "set_comprehension", "dictionary_comprehension",
                             "generator_expression"})


def _is_call_arguments(node: Node) -> bool:
    """`list(x for x in y)`: a bare generator is the call's argument list, which the call's `Expr` keeps."""
    parent = node.parent
    if parent is None or parent.type != "call":
        return False
    arguments = parent.child_by_field_name("arguments")
    return arguments is not None and arguments.id == node.id


def _loop_source(node: Node) -> tuple[Node | None, list[Node]]:
    """What a loop evaluates once before it starts (a for's iterable, a comprehension's first iterable) and
    the identifiers it binds."""
    if node.type == "while_statement":
        return None, []
    clauses = [node] if node.type == "for_statement" else [
        child for child in node.named_children if child.type == "for_in_clause"]
    targets: list[Node] = []
    for clause in clauses:
        left = clause.child_by_field_name("left")
        if left is not None:
            targets.extend([left] if left.type == "identifier" else
                           [child for child in left.named_children if child.type == "identifier"])
    first = clauses[0].child_by_field_name("right") if clauses else None
    return first, targets


# The ordering comparisons `Condition` keeps; `not (a op b)` is `a op' b`.
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _branch_bodies(node: Node) -> list[Node]:
    """The mutually exclusive bodies of an if/elif/else or match statement."""
    if node.type == "match_statement":
        body = node.child_by_field_name("body")
        cases = body.named_children if body is not None else []
        found = [case.child_by_field_name("consequence") for case in cases if case.type == "case_clause"]
    else:
        found = [node.child_by_field_name("consequence")]
        for alternative in node.children_by_field_name("alternative"):
            found.append(alternative.child_by_field_name("consequence") or alternative.child_by_field_name("body"))
    return [body for body in found if body is not None]


def _isinstance_blocks(block: Node, name: str) -> list[Node]:
    """The bodies of `if isinstance(name, ...):` / `elif isinstance(name, ...):` statements in `block`, not counting
    nested functions, classes and lambdas."""
    found: list[Node] = []
    stack = list(block.named_children)
    while stack:
        node = stack.pop()
        if node.type in ("if_statement", "elif_clause") and _tests_isinstance(node.child_by_field_name("condition"),
                                                                               name):
            body = node.child_by_field_name("consequence")
            if body is not None:
                found.append(body)
        if node.type not in ("function_definition", "class_definition", "lambda", "decorated_definition"):
            stack.extend(node.named_children)
    return found


def _tests_isinstance(test: Node | None, name: str) -> bool:
    if test is None or test.type != "call":
        return False
    func, arguments = test.child_by_field_name("function"), test.child_by_field_name("arguments")
    if func is None or func.text != b"isinstance" or arguments is None:
        return False
    first = next((child for child in arguments.named_children if child.type != "comment"), None)
    return first is not None and first.type == "identifier" and first.text == name.encode()


def _has_raise(block: Node) -> bool:
    """A raise statement in `block`, not counting nested functions, classes and lambdas."""
    stack = list(block.named_children)
    while stack:
        node = stack.pop()
        if node.type == "raise_statement":
            return True
        if node.type not in ("function_definition", "class_definition", "lambda", "decorated_definition"):
            stack.extend(node.named_children)
    return False


def _is_outermost_call(node: Node) -> bool:
    """A call that is not inside another call (as its callee chain or an argument) within its statement.

    A comprehension passed as an argument is kept as `Raw` text, so the calls inside it count as outermost
    (`jsonify([o.to_dict() for o in Order.query.all()])` → `jsonify(...)`, `o.to_dict()`, `Order.query.all()`).
    """
    parent = node.parent
    while parent is not None and parent.type not in _STATEMENT_TYPES:
        if parent.type in _COMPREHENSIONS and not _is_call_arguments(parent):
            return True
        if parent.type in ("call", "decorator"):
            return False
        if parent.type in ("function_definition", "class_definition", "lambda"):
            return parent.type != "lambda"
        parent = parent.parent
    return True


# --------------------------------------------------------------------------------------------- helpers for extractors


def iter_calls(expr: Expr | None) -> Iterator[Call]:
    """Every call inside `expr`, outermost first (the callee chain and the arguments included)."""
    return iter(_calls_in(expr)) if expr is not None and type(expr) not in _LEAVES else iter(())


# Expressions that hold no other expression.
_LEAVES = frozenset({Name, Const, FString, Raw})


def _calls_in(expr: Expr) -> list[Call]:
    # Extractors walk every call of every function, several times over: exact type tests and a list are
    # much cheaper than an `isinstance` chain in a generator. The order is `iter_calls`'s (depth first).
    found: list[Call] = []
    stack: list[Expr] = [expr]
    pop = stack.pop
    push = stack.append
    extend = stack.extend
    while stack:
        current = pop()
        kind = type(current)
        if kind is Call:
            found.append(current)  # type: ignore[arg-type]
            kwargs = current.kwargs  # type: ignore[attr-defined]
            if kwargs:
                extend([value for _, value in reversed(kwargs)])
            args = current.args  # type: ignore[attr-defined]
            if args:
                extend(args[::-1])
            push(current.func)  # type: ignore[attr-defined]
        elif kind in _LEAVES:
            continue
        elif kind is Attr:
            push(current.value)  # type: ignore[attr-defined]
        elif isinstance(current, Call):  # a subclass: the general (slower) path
            found.append(current)
            extend(reversed([value for _, value in current.kwargs]))
            extend(reversed(current.args))
            push(current.func)
        elif isinstance(current, Attr):
            push(current.value)
        elif isinstance(current, Subscript):
            extend(current.index)
            push(current.value)
        elif isinstance(current, Seq):
            extend(current.items)
            extend(current.keys)
        elif isinstance(current, BinOp):
            extend((current.right, current.left))
        elif isinstance(current, Lambda):
            push(current.body)
    return found


def chain(expr: Expr | None) -> list[str]:
    """The method names of a call chain, innermost first: `db.query(A).filter(x).all()` →
    ["db.query", "filter", "all"]."""
    names: list[str] = []
    current = expr
    while current is not None:
        if isinstance(current, Call):
            func = current.func
            if isinstance(func, Name):
                names.append(func.dotted)
                break
            if isinstance(func, Attr):
                names.append(func.attr)
                current = func.value
                continue
            break
        if isinstance(current, Attr):
            names.append(current.attr)
            current = current.value
            continue
        if isinstance(current, Name):
            names.append(current.dotted)
        break
    return list(reversed(names))


def const_str(expr: Expr | None) -> str | None:
    return expr.value if isinstance(expr, Const) and isinstance(expr.value, str) else None


def expr_text(expr: Expr | None) -> str:
    """A readable rendering of an expression (for messages and type names)."""
    if expr is None:
        return ""
    if isinstance(expr, Name):
        return expr.dotted
    if isinstance(expr, Attr):
        return f"{expr_text(expr.value)}.{expr.attr}"
    if isinstance(expr, Call):
        parts = [expr_text(arg) for arg in expr.args] + [f"{key}={expr_text(value)}" for key, value in expr.kwargs]
        return f"{expr_text(expr.func)}({', '.join(parts)})"
    if isinstance(expr, Const):
        return repr(expr.value) if isinstance(expr.value, str) else str(expr.value)
    if isinstance(expr, Subscript):
        return f"{expr_text(expr.value)}[{', '.join(expr_text(item) for item in expr.index)}]"
    if isinstance(expr, Seq):
        inner = ", ".join(expr_text(item) for item in expr.items)
        return {"list": f"[{inner}]", "set": f"{{{inner}}}", "dict": "{...}"}.get(expr.kind, f"({inner})")
    if isinstance(expr, BinOp):
        return f"{expr_text(expr.left)} {expr.op} {expr_text(expr.right)}"
    if isinstance(expr, FString):
        return expr.text
    if isinstance(expr, Raw):
        return expr.text
    if isinstance(expr, Lambda):
        return f"lambda: {expr_text(expr.body)}"
    return ""


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Every expression inside `expr`, itself included."""
    return iter(_walked(expr)) if expr is not None else iter(())


def _walked(expr: Expr) -> list[Expr]:
    # A list and exact type tests for the common shapes: extractors walk every expression of every file.
    found: list[Expr] = []
    stack: list[Expr] = [expr]
    while stack:
        current = stack.pop()
        found.append(current)
        kind = type(current)
        if kind is Name or kind is Const:
            continue
        if kind is Call:
            stack.append(current.func)  # type: ignore[attr-defined]
            stack.extend(current.args)  # type: ignore[attr-defined]
            if current.kwargs:  # type: ignore[attr-defined]
                stack.extend([value for _, value in current.kwargs])  # type: ignore[attr-defined]
        elif isinstance(current, Call):
            stack.append(current.func)
            stack.extend(current.args)
            stack.extend(value for _, value in current.kwargs)
        elif isinstance(current, Attr):
            stack.append(current.value)
        elif isinstance(current, Subscript):
            stack.append(current.value)
            stack.extend(current.index)
        elif isinstance(current, Seq):
            stack.extend(current.items)
            stack.extend(current.keys)
        elif isinstance(current, BinOp):
            stack.extend((current.left, current.right))
        elif isinstance(current, Lambda):
            stack.append(current.body)
    return found
