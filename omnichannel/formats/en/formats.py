"""One date-time format everywhere in the admin, always with its time zone (agents in several
zones read the same times). Django's locale formats would otherwise win over the settings."""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
