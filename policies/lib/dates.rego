# Calendar dates (YYYY-MM-DD) checked before they are parsed: an invalid date makes time.parse_ns an error,
# which OPA treats as undefined and regorus raises, so rules only parse dates valid() accepts.
package mlgitops.lib.dates

_iso := `^(19[7-9][0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`

valid(s) if {
	is_string(s)
	regex.match(_iso, s)
	_day_fits(s)
}

_day_fits(s) if substring(s, 5, 2) in {"01", "03", "05", "07", "08", "10", "12"}

_day_fits(s) if {
	substring(s, 5, 2) in {"04", "06", "09", "11"}
	substring(s, 8, 2) != "31"
}

_day_fits(s) if {
	substring(s, 5, 2) == "02"
	substring(s, 8, 2) <= "28"
}

_day_fits(s) if {
	substring(s, 5, 2) == "02"
	substring(s, 8, 2) == "29"
	_leap(to_number(substring(s, 0, 4)))
}

_leap(year) if {
	year % 4 == 0
	year % 100 != 0
}

_leap(year) if year % 400 == 0

_day_ns := 86400000000000

# Whole days from a to b (negative when b is earlier); both must be valid().
days_between(a, b) := (time.parse_ns("2006-01-02", b) - time.parse_ns("2006-01-02", a)) / _day_ns
