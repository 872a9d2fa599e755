package mlgitops.lib.dates

test_valid_dates if {
	valid("2026-11-25")
	valid("2024-02-29")
	valid("2000-02-29")
}

test_invalid_dates if {
	not valid("2025-02-29")
	not valid("1900-02-29")
	not valid("2025-04-31")
	not valid("2025-13-01")
	not valid("25-01-01")
	not valid(20250101)
}

test_days_between if {
	days_between("2026-10-26", "2026-11-25") == 30
	days_between("2026-11-25", "2026-11-20") == -5
}
