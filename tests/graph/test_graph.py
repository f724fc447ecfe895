"""The graph IR: default graphs, names and scopes, collections, lookups, finalize, sites."""

import threading

import pytest

import flowgraph as fg
from flowgraph.graph import GraphKeys


def test_default_graph_stack_nests_and_restores():
    outer, inner = fg.Graph(), fg.Graph()
    base = fg.get_default_graph()
    with outer.as_default():
        assert fg.get_default_graph() is outer
        with inner.as_default():
            assert fg.get_default_graph() is inner
        assert fg.get_default_graph() is outer
    assert fg.get_default_graph() is base


def test_default_graph_is_per_thread():
    g = fg.Graph()
    seen = []
    with g.as_default():
        t = threading.Thread(target=lambda: seen.append(fg.get_default_graph()))
        t.start()
        t.join()
    assert seen[0] is not g


def test_reset_default_graph_gives_an_empty_graph():
    fg.constant(1.0)
    old = fg.get_default_graph()
    fg.reset_default_graph()
    assert fg.get_default_graph() is not old
    assert fg.get_default_graph().get_operations() == []


def test_reset_default_graph_inside_as_default_is_refused():
    with fg.Graph().as_default():
        with pytest.raises(AssertionError, match="as_default"):
            fg.reset_default_graph()


def test_op_names_are_made_unique(graph):
    a = fg.constant(1.0, name="c")
    b = fg.constant(2.0, name="c")
    c = fg.constant(3.0, name="c")
    assert [a.op.name, b.op.name, c.op.name] == ["c", "c_1", "c_2"]
    assert a.name == "c:0"


def test_name_scopes_nest_and_reused_scopes_are_uniquified(graph):
    with fg.name_scope("outer"):
        with fg.name_scope("inner") as scope:
            x = fg.constant(1.0, name="x")
        with fg.name_scope("inner"):
            y = fg.constant(1.0, name="x")
    assert scope == "outer/inner/"
    assert x.name == "outer/inner/x:0"
    assert y.name == "outer/inner_1/x:0"
    with fg.name_scope("outer/inner/"):  # re-entering an exact scope
        z = fg.constant(1.0, name="x")
    assert z.name == "outer/inner/x_1:0"
    with fg.name_scope("outer"), fg.name_scope(None):
        w = fg.constant(1.0, name="root")
    assert w.name == "root:0"


def test_lookup_by_name(graph):
    with fg.name_scope("s"):
        x = fg.placeholder(fg.float32, [2], name="x")
    assert graph.get_tensor_by_name("s/x:0") is x
    assert graph.get_operation_by_name("s/x") is x.op
    assert graph.get_operations() == [x.op]
    with pytest.raises(KeyError, match="s/y"):
        graph.get_operation_by_name("s/y")
    with pytest.raises(ValueError, match="Tensor names must be"):
        graph.get_tensor_by_name("s/x")
    with pytest.raises(KeyError, match="has 1 output"):
        graph.get_tensor_by_name("s/x:3")


def test_collections(graph):
    v = fg.Variable(1.0, name="v")
    frozen = fg.Variable(2.0, name="frozen", trainable=False)
    assert graph.get_collection(GraphKeys.GLOBAL_VARIABLES) == [v, frozen]
    assert fg.trainable_variables() == [v]
    assert fg.global_variables(scope="fro") == [frozen]
    graph.add_to_collection("mine", 42)
    graph.get_collection("mine").append(0)  # a copy: the collection is unchanged
    assert graph.get_collection("mine") == [42]
    graph.get_collection_ref("mine").append(7)
    assert graph.get_collection("mine") == [42, 7]


def test_finalize_refuses_new_ops(graph):
    fg.constant(1.0)
    graph.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        fg.constant(2.0)


def test_mixing_graphs_is_an_error():
    with fg.Graph().as_default():
        a = fg.constant(1.0)
    with fg.Graph().as_default():
        b = fg.constant(1.0)
        with pytest.raises(ValueError, match="different graph"):
            fg.add(b, a)


def test_operation_records_type_inputs_attrs_device_and_site(graph):
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    with fg.device("/cpu:0"):
        y = fg.matmul(x, fg.constant([[1.0], [2.0], [3.0]]), transpose_b=False, name="mm")
    op = y.op
    assert op.type == "MatMul"
    assert [t.name for t in op.inputs] == ["x:0", "Const:0"]
    assert op.attrs["transpose_a"] is False
    assert op.device == "/cpu:0"
    assert op.site.filename == __file__
    assert op.site.function == "test_operation_records_type_inputs_attrs_device_and_site"
    assert "test_graph.py:" in str(op.site)


def test_creation_site_skips_framework_frames(graph):
    v = fg.Variable([1.0], name="v")  # the Variable class makes its ops inside flowgraph
    assert v.initializer.site.filename == __file__
    assert v.op.site.filename == __file__


def test_control_dependencies_attach_to_new_ops(graph):
    a = fg.no_op(name="a")
    with fg.control_dependencies([a]):
        b = fg.constant(1.0, name="b")
        with fg.control_dependencies(None):
            c = fg.constant(1.0, name="c")
    assert b.op.control_inputs == [a]
    assert c.op.control_inputs == []


def test_tensor_properties(graph):
    x = fg.placeholder(fg.float32, [None, 784], name="x")
    assert x.get_shape() == fg.TensorShape([None, 784])
    assert x.shape.as_list() == [None, 784]
    assert x.dtype is fg.float32
    assert x.value_index == 0
    assert x.op.outputs == (x,)
    assert "x:0" in repr(x)
    with pytest.raises(TypeError, match="Python bool"):
        bool(x)


def test_tensor_eval_without_a_session_says_how_to_get_one(graph):
    with pytest.raises(ValueError, match="no default session"):
        fg.constant(1.0).eval()


def test_an_ops_attrs_are_fixed_once_created(graph):
    import pickle

    c = fg.constant(1.0, name="c")
    for change in (
        lambda a: a.__setitem__("value", 2.0),
        lambda a: a.update(value=2.0),
        lambda a: a.pop("value"),
    ):
        with pytest.raises(TypeError, match="fixed when it is created"):
            change(c.op.attrs)
    assert c.op.attrs["value"] == 1.0
    # Attrs that depend on the op's place (a random op's seeds and generator key) are set as
    # it is created, not patched in afterwards.
    fg.set_random_seed(5)
    r = fg.random_uniform([2], seed=3, name="draw")
    assert (r.op.attrs["seed"], r.op.attrs["seed2"], r.op.attrs["key"]) == (5, 3, "draw")
    copy = pickle.loads(pickle.dumps(r.op.attrs))  # Dask ships attrs to workers
    assert copy == r.op.attrs and type(copy) is type(r.op.attrs)


def test_consumers_of_a_tensor_with_none_one_and_several(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    assert x.consumers == []
    unused = fg.exp(x, name="unused")
    assert unused.consumers == [] and x.consumers == [unused.op]
    a = fg.tanh(x, name="a")
    assert x.consumers == [unused.op, a.op]
    b = fg.negative(x, name="b")
    c = x + x  # one op consuming x twice
    assert x.consumers == [unused.op, a.op, b.op, c.op, c.op]
    assert graph.consumers_of(a) == [] and graph.consumers_of(x) is not graph.consumers_of(x)


def test_ops_without_attrs_share_nothing_they_could_change(graph):
    a = fg.tanh(fg.constant(1.0), name="a")
    b = fg.tanh(a, name="b")
    assert a.op.attrs == {} and b.op.attrs == {}
    with pytest.raises(TypeError, match="fixed when it is created"):
        a.op.attrs["x"] = 1
    assert b.op.attrs == {}
