#pragma once
// Log lines go to stderr. Under systemd (JOURNAL_STREAM set) each line starts
// with its syslog priority, "<3>" and so on (sd-daemon(3)), so journald keeps
// the level; elsewhere they carry a time stamp. Every line starts with a stable
// event name ("campaign.rejected file=…") so the journal can be searched by it.

namespace broadcastd {

void SetUpLogging(bool verbose);

}  // namespace broadcastd
