"""A seller account's retention rule: its page (the rule, a preview, the last runs) and the accounts listing's
column."""
