"""dashboard-service: the pages people open; it owns no business data."""
