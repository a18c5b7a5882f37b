"""Whether the site has a Celery task queue the plugin can send big exports and imports to.

A site that only followed "Install into your site" has no Celery settings: Celery would then try its
default broker (AMQP on localhost), which is not there, and every background job would fail after it
was announced. The plugin refuses such a job up front instead, with the reason, and the system check
``wagtail_customers.W011`` says so at ``manage.py check`` (``W012`` when the site has ``CELERY_*`` settings but
never loads the Celery app that reads them).
"""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def is_fallback_app(app):
    """Whether ``app`` is the app Celery makes up when the process created none (named "default", configured
    from nothing): the site's ``celery.py`` was not imported, so no app reads Django's ``CELERY_*`` settings."""
    return getattr(app, "main", None) == "default" and not getattr(app, "_config_source", None)


def django_celery_settings():
    """The names of the ``CELERY_*`` settings in Django's settings, sorted."""
    return sorted(name for name in dir(settings) if name.startswith("CELERY_"))


def celery_app_not_loaded():
    """The ``CELERY_*`` settings Django has while the current Celery app is Celery's fallback one, which never
    reads them (the project package's ``__init__.py`` does not import its ``celery.py``); else ``[]``. System
    check ``wagtail_customers.W012``."""
    from celery import current_app

    if not is_fallback_app(current_app._get_current_object()):
        return []
    return django_celery_settings()


def task_queue_configured():
    """``True`` when tasks run eagerly (in the process) or a broker is configured: in the Celery app the
    tasks are sent with (``CELERY_BROKER_URL`` in the environment counts), or in Django's settings (the
    usual ``CELERY_`` namespace) when that app is the site's own. Celery's fallback app (no site app was
    loaded) never reads Django's settings: its tasks go to its own broker (AMQP on localhost, unless the
    environment names one), so Django's ``CELERY_*`` settings do not count then."""
    from celery import current_app

    app = current_app._get_current_object()
    conf = app.conf
    if conf.task_always_eager or conf.broker_url:
        return True
    if is_fallback_app(app):
        return False
    return bool(getattr(settings, "CELERY_BROKER_URL", None) or getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def queued(send, what):
    """Call ``send`` (a task's ``delay`` or ``apply_async``): ``True`` once the task is queued, ``False`` (logged,
    naming ``what``) when the task queue could not be reached. Every error sending it means "not queued" (the
    broker's, the socket's, the serializer's); in eager mode the task runs inside ``send``, and an error it raises
    is the task's, so it is raised, not taken for the queue's."""
    from celery import current_app

    try:
        send()
    except Exception:
        if current_app.conf.task_always_eager:
            raise
        logger.exception("Could not queue %s", what)
        return False
    return True


def chords_possible():
    """Whether work can be split into a chord (chunks, then a task that joins them): it runs when tasks run
    eagerly, or when Celery has a result backend to count the finished chunks in."""
    from celery import current_app

    conf = current_app.conf
    return bool(conf.task_always_eager or conf.result_backend)
