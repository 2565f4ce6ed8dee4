package consent

import "time"

// bankHolidays are England and Wales bank holidays (gov.uk), as UK dates.
// Deadlines past the last year listed count weekdays only; extend the list
// each year.
var bankHolidays = map[string]bool{
	"2025-01-01": true, "2025-04-18": true, "2025-04-21": true, "2025-05-05": true, "2025-05-26": true,
	"2025-08-25": true, "2025-12-25": true, "2025-12-26": true,
	"2026-01-01": true, "2026-04-03": true, "2026-04-06": true, "2026-05-04": true, "2026-05-25": true,
	"2026-08-31": true, "2026-12-25": true, "2026-12-28": true,
	"2027-01-01": true, "2027-03-26": true, "2027-03-29": true, "2027-05-03": true, "2027-05-31": true,
	"2027-08-30": true, "2027-12-27": true, "2027-12-28": true,
}

// AddWorkingDays returns the end of the n-th working day after t (UK time,
// weekends and bank holidays skipped), as the last moment of that day.
func AddWorkingDays(t time.Time, n int) time.Time {
	d := t.In(london)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday || bankHolidays[day.Format("2006-01-02")] {
			continue
		}
		n--
	}
	return day.AddDate(0, 0, 1).Add(-time.Millisecond).UTC()
}
