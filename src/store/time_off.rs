//! Time off: absences (real-time ranges) and date overrides (a day's hours
//! replaced), per staff member.
