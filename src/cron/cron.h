#pragma once
// Cron schedules for repeating broadcasts: the 5-field expression and its
// occurrences in an IANA time zone. Campaign loading validates with
// CronSchedule::Create; ingestion expands a repeat into jobs with Between.

#include "cron/cron_expression.h"
#include "cron/cron_schedule.h"
