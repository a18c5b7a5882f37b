"""Optional integrations with other Wagtail packages, one sub-package each."""
