"""Hostile text in graph files and graphs built in Python never becomes code.

The seed MLP (with its gradients and Adam) is exported once; then every string-valued field of
the file (names, types, inputs, sites, devices, attrs and their tags, dtypes, variables,
collection keys) gets each payload in turn, and the file is imported, run one Adam step and
explained. No payload may run (a sentinel file would appear); each case either raises a
GraphFileError that names the field's place in the file, or runs to the clean file's numbers
with generated code of the same shape (only names and comments may differ) in which the
payload does not appear unescaped.
"""

from __future__ import annotations

import ast
import json
import os
from functools import lru_cache

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.compat.v1 as tf
from flowgraph.io import GraphFileError, export_graph, import_graph, import_graph_dict

FETCHES = {"loss": "Mean", "train": "Adam", "accuracy": "Mean_1"}
FEEDS = {"x": "Placeholder", "y": "Placeholder_1"}
X = np.linspace(0, 1, 2 * 784, dtype=np.float32).reshape(2, 784)
Y = np.eye(10, dtype=np.float32)[[1, 3]]
SOURCE = "seed.json"
BIG = "A" * (1 << 20)  # 1 MiB


def _payloads(sentinel: str) -> dict:
    code = f"__import__('pathlib').Path({sentinel!r}).touch()"
    return {
        "newline, column 0": f"f\n{code}\n",
        "newline, column 4": f"f\n    {code}",
        "newline, column 8": f"f\n        {code}",
        "carriage return": f"f\r    {code}",
        # Line ends to str.splitlines (and so to linecache), not to the compiler.
        "other line separators": f"f\x85    {code}\u2028    {code}\u2029\x0b\x0c\x1c{code}",
        "quotes and backslashes": f"x'\"\\'); {code} #\\",
    }


@lru_cache(maxsize=1)
def _seed_text() -> str:
    """The seed MNIST MLP of shared/seed-programs (TF1 spelling), exported."""
    import tempfile

    g = fg.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.float32, [None, 10])
        w1 = tf.Variable(tf.random_normal([784, 256]))
        b1 = tf.Variable(tf.zeros([256]))
        h1 = tf.nn.relu(tf.matmul(x, w1) + b1)
        w2 = tf.Variable(tf.random_normal([256, 10]))
        b2 = tf.Variable(tf.zeros([10]))
        logits = tf.matmul(h1, w2) + b2
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(0.001).minimize(loss)
        correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        tf.global_variables_initializer()
    assert [loss.op.name, train.name, accuracy.op.name] == list(FETCHES.values())
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "seed.json")
        export_graph(g, path)
        with open(path) as f:
            return f.read()


def _code_shape(source: str) -> str:
    """The generated code's AST with every name blanked: what it does, not what it calls."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = "_"
        elif isinstance(node, ast.arg):
            node.arg = "_"
    return ast.dump(tree)


def _run(doc, names: dict):
    """Import ``doc``, take one Adam step, explain it: (loss, accuracy), generated source."""
    g = fg.Graph()
    with g.as_default():
        import_graph_dict(doc, name="import", source=SOURCE)
        fetches = [f"import/{names[n]}" + (":0" * (k != "train")) for k, n in FETCHES.items()]
        feed = {f"import/{names[FEEDS['x']]}:0": X, f"import/{names[FEEDS['y']]}:0": Y}
        with fg.Session(graph=g) as sess:
            sess.run(f"import/{names['init']}")
            loss, _, accuracy = sess.run(fetches, feed)
            source = sess.explain(fetches, feed).source
    return (loss, accuracy), source


def _string_fields(doc):
    """``(container, key, path)`` of every string in ``doc``, values and object keys alike
    (``key`` is ``("key", name)`` for an object's key)."""
    out = []
    stack = [(doc, ())]
    while stack:
        value, path = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if isinstance(value, dict) and path and path[-1] in ("attrs", "collections"):
                out.append((value, ("key", k), (*path, k)))
            if isinstance(v, str):
                out.append((value, k, (*path, k)))
            elif isinstance(v, dict | list):
                stack.append((v, (*path, k)))
    return out


def _put(container, key, text):
    """Set the string at ``key`` (renaming an object key in place, keeping its order);
    returns a function undoing it."""
    if isinstance(key, tuple):
        old = key[1]
        items = list(container.items())
        container.clear()
        container.update((text if k == old else k, v) for k, v in items)

        def undo():
            restored = [(old if k == text else k, v) for k, v in container.items()]
            container.clear()
            container.update(restored)

        return undo
    old = container[key]
    container[key] = text
    return lambda: container.__setitem__(key, old)


def _places(path, old) -> list:
    """What a good error for a payload at ``path`` may name: the op, variable or collection
    it is in (an op renamed alone is also named, by its old name, where it is used)."""
    if path[0] == "ops":
        places = [f"ops[{path[1]}]"]
        if path[2] == "name" or "var_name" in path:
            places.append(repr(old))  # named where it is used
        return places
    if path[0] == "variables":
        return [f"variables[{path[1]}]"]
    if path[0] == "collections":
        return ["collections["]
    return [str(path[0])]


def _closed_set(path) -> bool:
    """Whether the field at ``path`` may only hold one of a known set of strings."""
    last = path[-1]
    return (
        last in ("type", "dtype", "data", "format")
        or (path[0] == "ops" and path[2] in ("inputs", "control_inputs"))
        or (len(path) > 4 and path[2] == "attrs" and last == "name")  # {"type": "dtype"}
    )


def _role(path) -> tuple:
    return tuple("*" if isinstance(p, int) else p for p in path)


def _check_case(doc, names, payload, places, clean, tmp_path, sentinel):
    try:
        got, source = _run(doc, names)
    except GraphFileError as e:
        message = str(e)
        assert SOURCE in message and any(p in message for p in places), message[:500]
        assert len(message) < 2000, f"the error echoes {len(message)} characters"
        return "refused"
    finally:
        assert not os.path.exists(sentinel), f"payload {payload[:40]!r} ran"
    expected, clean_source = clean
    assert got == expected, (got, expected)
    assert payload not in source
    assert _code_shape(source) == clean_shape(clean_source)
    return "ran"


@lru_cache(maxsize=4)
def clean_shape(source: str) -> str:
    return _code_shape(source)


def test_payloads_in_every_string_field_of_a_graph_file_never_run(tmp_path):
    text = _seed_text()
    doc = json.loads(text)
    names = {n: n for n in (*FETCHES.values(), *FEEDS.values(), "init")}
    clean = _run(doc, names)
    sentinel = str(tmp_path / "sentinel")
    payloads = _payloads(sentinel)
    closed = [
        payloads[k]
        for k in ("newline, column 4", "other line separators", "quotes and backslashes")
    ]
    fields = _string_fields(doc)
    assert len(fields) > 1000  # every op's name, type, inputs, attrs, site, dtypes...
    outcomes = {"refused": 0, "ran": 0}
    roles = set()
    for container, key, path in fields:
        old = key[1] if isinstance(key, tuple) else container[key]
        places = _places(path, old)
        # Fields checked against a closed set (type tags, dtypes, op types, tensor references,
        # base64 data) get three payloads: every character class refused the same way there.
        cases = list(payloads.values() if not _closed_set(path) else closed)
        if _role(path) not in roles:  # the 1 MiB string: once per kind of field
            roles.add(_role(path))
            cases.append(BIG)
        for payload in cases:
            undo = _put(container, key, payload)
            renamed = dict(names)
            if path[-1] == "name" and path[0] == "ops" and old in names:
                renamed[old] = payload  # the op is fetched by its new name
            try:
                outcome = _check_case(doc, renamed, payload, places, clean, tmp_path, sentinel)
            finally:
                undo()
            outcomes[outcome] += 1
    assert json.dumps(doc) == json.dumps(json.loads(text))  # every field was put back
    # Quotes in a site's file name, a variable's store name or a collection key are harmless:
    # those files import and run.
    assert outcomes["ran"] > 100 and outcomes["refused"] > 5000, outcomes
    assert len(roles) > 20


def _rename_everywhere(doc, old: str, new: str):
    """Rename op ``old`` to ``new`` in the op and in every reference to it."""
    for op in doc["ops"]:
        if op["name"] == old:
            op["name"] = new
        for i, ref in enumerate(op["inputs"]):
            if ref.rpartition(":")[0] == old:
                op["inputs"][i] = f"{new}:{ref.rpartition(':')[2]}"
        for i, ref in enumerate(op.get("control_inputs", [])):
            if ref == old:
                op["control_inputs"][i] = new
    for var in doc["variables"]:
        for key in ("name", "initializer", "initial_value"):
            ref = var[key]
            if ref == old or (ref or "").rpartition(":")[0] == old:
                var[key] = new + ref[len(old) :]
    for items in doc["collections"].values():
        for item in items:
            ((kind, ref),) = item.items()
            if ref == old or ref.rpartition(":")[0] == old:
                item[kind] = new + ref[len(old) :]


def test_hostile_op_names_renamed_everywhere_import_run_and_stay_comments(tmp_path):
    """A name is valid with quotes, backslashes and code in it: with every op of the seed MLP
    renamed so (consistently), the file imports and runs the same, and the names appear in
    the generated code only escaped."""
    text = _seed_text()
    doc = json.loads(text)
    sentinel = str(tmp_path / "sentinel")
    payload = _payloads(sentinel)["quotes and backslashes"].rstrip("\\")
    base = {n: n for n in (*FETCHES.values(), *FEEDS.values(), "init")}
    clean = _run(doc, base)
    for op in [o["name"] for o in doc["ops"]]:
        _rename_everywhere(doc, op, f"{op}/{payload}")
    names = {n: f"{n}/{payload}" for n in base}
    assert _check_case(doc, names, payload, [], clean, tmp_path, sentinel) == "ran"


def test_site_from_the_issue_is_refused_naming_the_op(tmp_path):
    doc = json.loads(_seed_text())
    doc["ops"][5]["site"] = ["m.py", 7, "f\n    __import__('os').system('touch /tmp/x')"]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    with fg.Graph().as_default(), pytest.raises(GraphFileError, match=r"ops\[5\].*'site'"):
        import_graph(path)


@pytest.mark.parametrize(
    "site, ok",
    [
        (["model.py", 12, "build"], True),
        (["/home/ana/my model's.py", 0, "<module>"], True),
        (["m.py", 1, "<lambda>"], True),
        (["m.py", -1, "f"], False),
        (["m.py", True, "f"], False),
        (["m.py", 1, "f g"], False),
        (["m.py", 1, "<mod\nule>"], False),
        (["m\u2029.py", 1, "f"], False),
        (["m.py" * 1000, 1, "f"], False),
        (["m.py", 1], False),
    ],
)
def test_site_fields_are_checked(site, ok):
    from flowgraph.io.graph_check import valid_site

    assert valid_site(site) is ok


# ---- graphs built in Python go through the same encoder --------------------------------------


def test_hostile_names_scopes_and_sites_from_python_never_run(tmp_path):
    sentinel = str(tmp_path / "sentinel")
    payloads = _payloads(sentinel)
    for label, payload in payloads.items():
        with fg.Graph().as_default() as g:
            x = fg.placeholder(fg.float32, [2], name="x")
            with g.name_scope(payload.replace(":", "")):
                y = fg.multiply(x, 2.0, name=payload.replace(":", ""))
            # A site from user code: a file whose name holds the payload.
            code = compile("z = fg.exp(y, name='z')", payload, "exec")
            scope = {"fg": fg, "y": y}
            exec(code, scope)
            with fg.Session() as sess:
                got = sess.run(scope["z"], {x: [0.0, 1.0]})
                source = sess.explain(scope["z"], {x: [0.0, 1.0]}).source
        assert not os.path.exists(sentinel), label
        np.testing.assert_allclose(got, np.exp([0.0, 2.0]), rtol=1e-6)
        assert payload not in source
        assert all(line.isprintable() for line in source.splitlines())


def test_names_that_python_would_normalise_to_one_identifier_stay_apart():
    """``ﬁ`` (a ligature) and ``fi`` are one identifier to Python (NFKC): variables in
    generated code are ASCII so they cannot clash."""
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [], name="x")
        a = fg.multiply(x, 2.0, name="\ufb01")
        b = fg.multiply(x, 3.0, name="fi")
        with fg.Session() as sess:
            assert sess.run([a, b, a - b], {x: 1.0}) == [2.0, 3.0, -1.0]
