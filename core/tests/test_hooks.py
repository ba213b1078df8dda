"""Hooks: task events reach observers, a failing observer is skipped, progress can be silenced."""

import logging

import numpy as np

from feint.hooks import get_plugin_manager, hookimpl, task


class Recorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def feint_task_start(self, task):
        self.events.append(("start", task.kind, task.total))

    @hookimpl
    def feint_task_progress(self, task, advance):
        self.events.append(("progress", advance))

    @hookimpl
    def feint_task_end(self, task):
        self.events.append(("end", task.done, task.error is None))


class Exploding:
    @hookimpl
    def feint_task_start(self, task):
        raise RuntimeError("observer bug")


def test_attack_emits_events_and_failing_observer_is_skipped(caplog):
    from feint.testing import trained_reference
    from feint_attack_fgsm import FastGradientMethod

    clf, x, _ = trained_reference("softmax", nb_epochs=1)
    pm = get_plugin_manager()
    rec, bad = Recorder(), Exploding()
    pm.register(rec)
    pm.register(bad)
    try:
        with caplog.at_level(logging.WARNING, logger="feint.hooks"):
            adv = FastGradientMethod(clf, eps=0.1, batch_size=100).generate(x)
        assert adv.shape == x.shape
        assert rec.events[0] == ("start", "attack", 3)
        assert rec.events.count(("progress", 1)) == 3
        assert rec.events[-1] == ("end", 3, True)
        assert "observer bug" in caplog.text or "failed; skipped" in caplog.text
    finally:
        pm.unregister(rec)
        pm.unregister(bad)


def test_task_records_errors():
    pm = get_plugin_manager()
    rec = Recorder()
    pm.register(rec)
    try:
        try:
            with task("pipeline", "boom", total=1):
                raise ValueError("x")
        except ValueError:
            pass
        assert rec.events[-1] == ("end", 0, False)
    finally:
        pm.unregister(rec)


def test_progress_bar_silenced(monkeypatch, capsys):
    monkeypatch.setenv("FEINT_PROGRESS", "0")
    with task("attack", "quiet", total=2) as t:
        t.advance(2)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("FEINT_PROGRESS", "force")
    with task("attack", "loud", total=2, verbose=False) as t:
        t.advance(2)
    assert capsys.readouterr().err == ""
    with task("attack", "loud", total=2) as t:
        t.advance(2)
    assert "attack loud" in capsys.readouterr().err
    np.testing.assert_equal(1, 1)
