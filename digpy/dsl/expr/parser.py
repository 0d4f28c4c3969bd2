"""A Pratt parser for ES5 expressions.

Binding powers follow the ECMAScript precedence table. Statements, assignment and ``++``/``--``
are not expressions Digdag users write in ``${...}``; they are reported as SyntaxErrors that
say so. Nesting is capped (ExpressionLimitError) before Python's own recursion limit.
"""

from __future__ import annotations

from digpy.dsl.expr.lexer import Token, tokenize
from digpy.dsl.expr.limits import MAX_DEPTH, MAX_EXPRESSION_CHARS
from digpy.dsl.expr.nodes import (
    ArrayLit,
    Binary,
    Call,
    Cond,
    Const,
    Func,
    Logical,
    Member,
    Name,
    New,
    Node,
    ObjectLit,
    Regex,
    Seq,
    Unary,
    children,
)
from digpy.dsl.expr.regexp import compile_regex
from digpy.dsl.expr.values import limit_error, number_to_string, security_error, syntax_error

_BINARY_POWER = {
    "||": 4, "&&": 5, "|": 6, "^": 7, "&": 8,
    "==": 9, "!=": 9, "===": 9, "!==": 9,
    "<": 10, ">": 10, "<=": 10, ">=": 10, "instanceof": 10, "in": 10,
    "<<": 11, ">>": 11, ">>>": 11, "+": 12, "-": 12, "*": 13, "/": 13, "%": 13,
}
_UNARY_POWER = 14
_POSTFIX_POWER = 17  # . [ (
_ASSIGNMENT = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", ">>>=", "&=", "|=",
                         "^="})
_RESERVED = frozenset({
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "do", "else",
    "enum", "export", "extends", "finally", "for", "if", "import", "let", "return", "super",
    "switch", "throw", "try", "var", "while", "with", "yield", "static", "implements",
    "interface", "package", "private", "protected", "public",
})


class Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_EXPRESSION_CHARS:
            raise limit_error(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # -------------------------------------------------------------- tokens
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind in ("punct", "name") and tok.value == value

    def expect(self, value: str) -> Token:
        if not self.at(value):
            raise self.unexpected(self.peek())
        return self.advance()

    def unexpected(self, tok: Token) -> Exception:
        if tok.kind == "eof":
            return syntax_error("Unexpected end of input")
        if tok.kind == "name":
            return syntax_error(f"Unexpected identifier {tok.value}")
        return syntax_error(f"Unexpected token {tok.value}")

    # -------------------------------------------------------------- Pratt core
    def parse(self) -> Node:
        node = self.expression(0)
        if self.peek().kind != "eof":
            raise self.unexpected(self.peek())
        check_depth(node)
        return node

    def expression(self, rbp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise limit_error(f"expression nested deeper than {MAX_DEPTH} levels")
        left = self.prefix(self.advance())
        while rbp < self.power(self.peek()):
            left = self.infix(self.advance(), left)
        self.depth -= 1
        return left

    def power(self, tok: Token) -> int:
        if tok.kind == "punct":
            v = tok.value
            if v in (".", "[", "("):
                return _POSTFIX_POWER
            if v in _BINARY_POWER:
                return _BINARY_POWER[v]
            if v == "?":
                return 3
            if v == ",":
                return 1
            if v in _ASSIGNMENT or v in ("++", "--"):
                return 2
            return 0
        if tok.kind == "name" and tok.value in ("in", "instanceof"):
            return 10
        return 0

    # -------------------------------------------------------------- prefix
    def prefix(self, tok: Token) -> Node:
        if tok.kind in ("num", "str"):
            return Const(tok.value)
        if tok.kind == "regex":
            source, flags = tok.value
            compile_regex(source, flags)  # an invalid pattern is an early SyntaxError
            return Regex(source, flags)
        if tok.kind == "name":
            return self.prefix_name(tok)
        if tok.kind == "punct":
            return self.prefix_punct(tok)
        raise self.unexpected(tok)

    def prefix_name(self, tok: Token) -> Node:
        word = tok.value
        constants = {"true": True, "false": False, "null": None}
        if word in constants:
            return Const(constants[word])
        if word == "this":
            raise security_error("'this' is not available in expressions")
        if word == "function":
            return self.function()
        if word == "new":
            return self.new()
        if word in ("typeof", "void"):
            return Unary(word, self.expression(_UNARY_POWER))
        if word == "delete":
            raise syntax_error("'delete' is not supported in ${...}")
        if word in _RESERVED:
            raise syntax_error(f"Unexpected token {word}")
        return Name(word)

    def prefix_punct(self, tok: Token) -> Node:
        v = tok.value
        if v == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if v == "[":
            return self.array()
        if v == "{":
            return self.object()
        if v in ("!", "-", "+", "~"):
            return Unary(v, self.expression(_UNARY_POWER))
        if v in ("++", "--"):
            raise syntax_error(f"'{v}' is not supported in ${{...}}: expressions cannot assign")
        raise self.unexpected(tok)

    # -------------------------------------------------------------- infix
    def infix(self, tok: Token, left: Node) -> Node:
        v = tok.value
        if v == ".":
            name = self.advance()
            if name.kind != "name":
                raise self.unexpected(name)
            return Member(left, Const(name.value), False)
        if v == "[":
            key = self.expression(0)
            self.expect("]")
            return Member(left, key, True)
        if v == "(":
            return Call(left, self.arguments())
        if v == "?":
            then = self.expression(2)
            self.expect(":")
            return Cond(left, then, self.expression(2))
        if v == ",":
            right = self.expression(1)
            return Seq((*left.items, right) if isinstance(left, Seq) else (left, right))
        if v in ("&&", "||"):
            return Logical(v, left, self.expression(_BINARY_POWER[v]))
        if v in _BINARY_POWER:
            return Binary(v, left, self.expression(_BINARY_POWER[v]))
        if v in ("in", "instanceof"):
            return Binary(v, left, self.expression(10))
        raise syntax_error(f"'{v}' is not supported in ${{...}}: expressions cannot assign")

    # -------------------------------------------------------------- pieces
    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        while not self.at(")"):
            args.append(self.expression(1))
            if not self.at(")"):
                self.expect(",")
        self.advance()
        return tuple(args)

    def array(self) -> Node:
        items: list[Node | None] = []
        while not self.at("]"):
            if self.at(","):
                self.advance()
                items.append(None)
                continue
            items.append(self.expression(1))
            if not self.at("]"):
                self.expect(",")
        self.advance()
        return ArrayLit(tuple(items))

    def object(self) -> Node:
        props: list[tuple[str, Node]] = []
        while not self.at("}"):
            key = self.property_name()
            self.expect(":")
            props.append((key, self.expression(1)))
            if not self.at("}"):
                self.expect(",")
        self.advance()
        return ObjectLit(tuple(props))

    def property_name(self) -> str:
        tok = self.advance()
        if tok.kind in ("name", "str"):
            key = str(tok.value)
        elif tok.kind == "num":
            key = number_to_string(tok.value)
        else:
            raise self.unexpected(tok)
        if tok.kind == "name" and key in ("get", "set") and self.peek().kind == "name":
            raise syntax_error("getters and setters are not supported in ${...}")
        if key.startswith("__"):
            raise security_error(f"property '{key}' is not accessible from an expression")
        return key

    def new(self) -> Node:
        callee = self.prefix(self.advance())
        while self.at(".") or self.at("["):
            callee = self.infix(self.advance(), callee)
        args: tuple[Node, ...] = ()
        if self.at("("):
            self.advance()
            args = self.arguments()
        return New(callee, args)

    def function(self) -> Node:
        name = self.advance().value if self.peek().kind == "name" else None
        self.expect("(")
        params: list[str] = []
        while not self.at(")"):
            tok = self.advance()
            if tok.kind != "name" or tok.value in _RESERVED:
                raise self.unexpected(tok)
            params.append(tok.value)
            if not self.at(")"):
                self.expect(",")
        self.advance()
        self.expect("{")
        return Func(name, tuple(params), self.function_body())

    def function_body(self) -> Node | None:
        body: Node | None = None
        if self.at("return"):
            self.advance()
            if not (self.at(";") or self.at("}")):
                body = self.expression(0)
        elif not self.at("}"):
            raise syntax_error("a function in ${...} may only contain 'return <expression>'")
        if self.at(";"):
            self.advance()
        self.expect("}")
        return body


def check_depth(root: Node) -> None:
    """Reject trees deeper than MAX_DEPTH (long left-nested chains like 1+1+...+1 included),
    without recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise limit_error(f"expression nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children(node))


def parse(source: str) -> Node:
    return Parser(source).parse()
