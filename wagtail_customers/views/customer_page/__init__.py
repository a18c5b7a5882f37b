"""The customer page (Timeline, Details, Orders), the order page with its P&L, and e-mailing the customer."""
