"""Session.explain: the pruned op count, each pass with its op counts and changes, the code."""

import flowgraph as fg


def test_explain_tells_what_each_pass_did_and_shows_the_code(graph):
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    scale = fg.constant(2.0, name="two") * 0.5  # folds to 1, then x * 1 goes
    a = fg.tanh(x * scale, name="a")
    b = fg.tanh(x * scale, name="b")  # the same expression again
    y = fg.exp(a + b, name="y")
    with fg.Session() as sess:
        explanation = sess.explain(y, {x: [[1, 2, 3]]})
    text = str(explanation)
    lines = text.splitlines()
    assert lines[0] == "Plan for y:0 with x:0 fed, level O1"
    assert lines[1] == "pruned graph: 9 ops"
    assert "fold_constants: 9 -> 9 ops" in lines
    assert "  folded Mul 'mul' into a constant 1." in lines or any(
        "folded Mul" in line and "into a constant 1." in line for line in lines
    )
    assert any(line.startswith("  merged Tanh 'b' into Tanh 'a'") for line in lines)
    assert any("writes into the buffer of" in line for line in lines)
    assert text.endswith(explanation.plan.source.rstrip("\n"))
    assert lines[lines.index("generated code:") + 1] == "def run(ctx, x):"
    assert repr(explanation) == text
    assert explanation.plan.level == "O1"


def test_explain_at_o0_runs_no_pass(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.tanh(x * 1.0, name="y")
    text = str(fg.Session(level="O0").explain([y], {x: [0, 1]}))
    assert "simplify_arithmetic" not in text and "level O0" in text
    assert "Mul = xp_multiply(x, Const)" in text
    # the session's level is the default; explain can ask for another
    explained = fg.Session(level="O0").explain(y, {x: [0, 1]}, level="O1")
    assert "simplify_arithmetic: 3 -> 2 ops" in str(explained)


def test_explaining_compiles_nothing_into_the_sessions_cache(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    with fg.Session() as sess:
        sess.explain(fg.exp(x), {x: [0, 0]})
        assert sess.compile_count == 0
