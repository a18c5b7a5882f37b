"""Saved views of the Customers listing: save the current listing, open, rename, share, update, delete."""
