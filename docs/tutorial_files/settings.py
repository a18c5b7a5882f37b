# At the end of mysite/settings/base.py

INSTALLED_APPS += ["wagtail_customers", "import_export"]

# Celery: until you run a worker, the plugin's tasks run inside the web request.
# In production set CELERY_BROKER_URL to your Redis and remove these two lines (see "Run Celery workers").
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
