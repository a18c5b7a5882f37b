"""Figures that look ahead: models fitted on a seller account's purchase histories."""
