"""tf.app.run, tf.app.flags (absl's syntax, TF1's lazy parse) and tf.logging."""

import sys

import pytest

import flowgraph.compat.v1 as tf
from flowgraph.compat.flags import FlagError, FlagValues


def define(flags):
    flags.DEFINE_string("data_dir", "/tmp/data", "where the data is")
    flags.DEFINE_integer("steps", 100, "training steps")
    flags.DEFINE_float("learning_rate", 0.01, "step size")
    flags.DEFINE_boolean("fake_data", False, "use fake data")
    flags.DEFINE_list("layers", "64,32", "hidden sizes")
    flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "optimizer")


def test_every_argument_form_and_unknown_arguments_pass_through():
    flags = FlagValues()
    define(flags)
    rest = flags(
        [
            "prog",
            "--steps",
            "7",
            "-learning_rate=0.5",
            "--nofake_data",
            "--layers=8,4",
            "--unknown=3",
            "input.txt",
            "--",
            "--steps=9",
        ]
    )
    assert rest == ["prog", "--unknown=3", "input.txt", "--steps=9"]
    assert (flags.steps, flags.learning_rate, flags.fake_data) == (7, 0.5, False)
    assert flags.layers == ["8", "4"] and flags.data_dir == "/tmp/data"
    flags(["prog", "--fake_data", "--optimizer=sgd"])
    assert flags.fake_data is True and flags.optimizer == "sgd"
    flags(["prog", "--fake_data=false"])
    assert flags.fake_data is False
    assert flags.flag_values_dict()["steps"] == 7
    flags.steps = "12"  # assignment converts like the command line
    assert flags.steps == 12 and "steps" in flags


def test_bad_values_and_definitions_are_clear_errors():
    flags = FlagValues()
    define(flags)
    with pytest.raises(FlagError, match=r"--steps=many: invalid literal.*integer flag"):
        flags(["prog", "--steps=many"])
    with pytest.raises(FlagError, match="must be one of"):
        flags(["prog", "--optimizer=lbfgs"])
    with pytest.raises(FlagError, match="needs a value"):
        flags(["prog", "--steps"])
    with pytest.raises(FlagError, match="Unknown command line flag"):
        flags(["prog", "--nope"], known_only=False)
    with pytest.raises(AttributeError, match="no flag named 'stpes'"):
        flags.stpes  # noqa: B018
    # Defined again from this same file: the program was run again; starts from the default.
    flags.DEFINE_integer("steps", 5, "again")
    assert flags.steps == 5


def test_tf14_keyword_names_are_accepted():
    flags = FlagValues()
    flags.DEFINE_string(flag_name="mode", default_value="train", docstring="what to do")
    flags.DEFINE_integer(name="batch", default=8, help="batch size")
    assert flags(["prog", "--mode=eval"]) == ["prog"]
    assert (flags.mode, flags.batch) == ("eval", 8)
    assert "--mode: what to do" in flags.help_text()


def test_reading_a_flag_first_parses_sys_argv(monkeypatch):
    flags = FlagValues()
    define(flags)
    monkeypatch.setattr(sys, "argv", ["prog", "--steps=3", "--not_mine=1"])
    assert flags.steps == 3 and flags.is_parsed()


def test_app_run_parses_flags_and_calls_main_with_the_rest(capsys):
    tf.app.flags.DEFINE_integer("app_test_epochs", 2, "epochs")
    seen = []

    def main(argv):
        seen.append((argv, tf.app.flags.FLAGS.app_test_epochs))
        return 3

    with pytest.raises(SystemExit) as exit_info:
        tf.app.run(main=main, argv=["prog", "--app_test_epochs=4", "--other", "x"])
    assert exit_info.value.code == 3
    assert seen == [(["prog", "--other", "x"], 4)]
    with pytest.raises(SystemExit) as exit_info:
        tf.app.run(main=main, argv=["prog", "--app_test_epochs=four"])
    assert exit_info.value.code == 1
    assert "Flags parsing error" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        tf.app.run(main=main, argv=["prog", "--help"])
    assert exit_info.value.code == 0
    assert "--app_test_epochs: epochs" in capsys.readouterr().out
    assert tf.flags.FLAGS is tf.app.flags.FLAGS


def test_logging_levels_and_format(capsys):
    old = tf.logging.get_verbosity()
    try:
        tf.logging.info("hidden at the default level")
        tf.logging.warn("shown %d", 1)
        tf.logging.set_verbosity(tf.logging.INFO)
        tf.logging.info("step %d loss %.2f", 5, 0.25)
        tf.logging.debug("still hidden")
        for i in range(5):
            tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, i)
            tf.logging.log_first_n(tf.logging.INFO, "first", 1)
        tf.logging.error("bad")
    finally:
        tf.logging.set_verbosity(old)
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert "WARNING:flowgraph:shown 1" in err
    assert "INFO:flowgraph:step 5 loss 0.25" in err
    assert [line[-7:] for line in err.splitlines() if "every" in line] == [
        "every 0",
        "every 2",
        "every 4",
    ]
    assert err.count("first") == 1
    assert "ERROR:flowgraph:bad" in err
    assert tf.logging.WARN == 30 and tf.logging.DEBUG < tf.logging.INFO < tf.logging.ERROR
