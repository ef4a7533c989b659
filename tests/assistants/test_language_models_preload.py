"""A Celery worker loads the language models in its main process, before its pool forks, so its pool
processes share one copy and no customer's draft waits ~2 s (far longer on a loaded machine, where the
lazy first load ran into the drafting task's soft time limit)."""

from __future__ import annotations

import os

from celery.signals import worker_init

from assistants import classifier, language


def test_the_worker_main_process_loads_the_models_and_a_forked_pool_process_detects_with_them(monkeypatch):
    monkeypatch.setattr(language, "_detector", None)
    monkeypatch.setattr(classifier, "_model", None)
    worker_init.send(sender=None)  # what `celery worker` sends in its main process before forking the pool
    loaded = language._detector
    assert loaded is not None
    assert classifier._model is not None  # the intent classifier is trained before the fork too

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the pool process: it must use the inherited detector, not build its own
        try:
            answer = language.language_detect("Bonjour, je n'ai toujours pas reçu ma commande, pouvez-vous vérifier ?")
            os.write(write_end, f"{answer} {language._detector is loaded}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    assert os.read(read_end, 100).decode() == "fr True"
