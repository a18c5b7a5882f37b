"""The Import screen: upload a file, preview the dry run, apply it on confirmation (``/admin/customers/import/``)."""
