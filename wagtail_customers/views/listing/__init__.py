"""The customers listing: six tabs, statistics, filters, column views, watchlist eye, bulk actions, delete."""
