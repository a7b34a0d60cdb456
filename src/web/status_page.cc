#include "web/status_page.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/log_value.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

constexpr char kStyle[] = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
table{border-collapse:collapse;background:#fff}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{font-weight:600;color:#566}.muted{color:#778}.bad{color:#b3261e}.ok{color:#1b7f3b}
pre{margin:0;white-space:pre-wrap}
code{background:#eef1f4;padding:1px 4px;border-radius:3px}
.bar{width:160px;height:10px;background:#e3e6ea;border-radius:5px;overflow:hidden;display:inline-block;vertical-align:middle}
.bar span{display:block;height:100%;background:#3d7be0}.bar span.full{background:#b3261e}
)css";

std::string Time(TimePoint t) { return HtmlEscape(FormatDisplayTime(t)); }

std::string EndpointName(const std::string& app, BroadcastTarget target) {
  return HtmlEscape(app) + "/" + std::string(TargetName(target));
}

// What keeps the endpoint from sending, as --status says it (STATE): paused with its
// reason, no token with why, else active; and the day's budget spent.
std::string EndpointState(const StatusReport::Endpoint& e) {
  std::string state;
  if (e.paused) {
    state = "<span class=\"bad\" data-state=\"paused\">paused: " + HtmlEscape(e.pause_reason) +
            "</span>";
  } else if (!e.no_token.empty()) {
    state = "<span class=\"bad\" data-state=\"no_token\">no token: " + HtmlEscape(e.no_token) +
            "</span>";
  } else {
    state = "<span data-state=\"active\">active</span>";
  }
  if (e.daily > 0 && e.used_today >= e.daily) {
    state += " <span class=\"bad\" data-state=\"budget_spent\">budget spent</span>";
  }
  return state;
}

void Endpoints(std::string& out, const StatusReport& r) {
  out +=
      "<h2>Endpoints</h2>\n<table id=\"endpoints\"><tr><th>Endpoint</th><th>Budget today</th>"
      "<th>Used</th><th>Left</th><th>Queued</th><th>Window</th><th>State</th></tr>\n";
  for (const auto& e : r.endpoints) {
    const int left = std::max(0, e.daily - e.used_today);
    const int percent = e.daily > 0 ? std::min(100, e.used_today * 100 / e.daily) : 100;
    const bool open = e.next_allowed <= r.now.wall;
    out += fmt::format(
        "<tr data-endpoint=\"{0}\"><td>{0}</td><td><span class=\"bar\"><span{1} "
        "style=\"width:{2}%\"></span></span> {3}/{4}</td><td class=\"used\">{3}</td>"
        "<td class=\"left\">{5}</td><td class=\"queued\">{6}</td><td class=\"window\">{7}</td>"
        "<td class=\"state\">{8}</td></tr>\n",
        EndpointName(e.app, e.target), left == 0 ? " class=\"full\"" : "", percent, e.used_today,
        e.daily, left, e.queued,
        open ? std::string("<span class=\"ok\">open</span>") : "next send " + Time(e.next_allowed),
        EndpointState(e));
  }
  out += "</table>\n";
}

// Every warning of the report, as --status prints them under WARNINGS.
void Warnings(std::string& out, const StatusReport& r) {
  out += fmt::format("<h2>Warnings ({})</h2>\n", r.warnings.size());
  if (r.warnings.empty()) {
    out += "<p class=\"muted\">None.</p>\n";
    return;
  }
  out += "<ul id=\"warnings\">\n";
  for (const std::string& w : r.warnings) out += "<li class=\"bad\">" + HtmlEscape(w) + "</li>\n";
  out += "</ul>\n";
}

// PostgreSQL: who holds the sender lease, as --status says it.
void Lease(std::string& out, const StatusReport& r) {
  if (!r.lease) return;
  const Store::LeaseStatus& l = *r.lease;
  const bool held = !l.holder.empty() && l.expires > l.db_now;
  out +=
      fmt::format("<p id=\"lease\" data-holder=\"{}\">Sender: ", held ? HtmlEscape(l.holder) : "");
  if (l.holder.empty()) {
    out += "none yet (no daemon has held the sender lease)";
  } else if (!held) {
    out += "none: the lease of " + HtmlEscape(l.holder) + " expired at " + Time(l.expires);
  } else {
    out += "<b>" + HtmlEscape(l.holder) + "</b> since " + Time(l.since) + " (epoch " +
           std::to_string(l.epoch) + ", lease valid until " + Time(l.expires) + ")";
  }
  out += "; daemons: ";
  bool first = true;
  for (const auto& n : l.nodes) {
    const bool sender = held && n.node == l.holder;
    out += fmt::format("{}<span data-node=\"{}\">{} ({})</span>", first ? "" : ", ",
                       HtmlEscape(n.node), HtmlEscape(n.node), sender ? "sender" : "standby");
    first = false;
  }
  if (l.nodes.empty()) out += "none seen";
  out += "</p>\n";
}

void Timeline(std::string& out, const StatusReport& r,
              const std::vector<EndpointForecast>& forecast) {
  constexpr int kLabel = 170, kWidth = 720, kRow = 26, kTop = 22;
  const int height = kTop + kRow * static_cast<int>(forecast.size()) + 8;
  out += "<h2>Forecast sends, next 24 h</h2>\n";
  out += fmt::format(
      "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"forecast sends per endpoint over the next 24 hours\">\n",
      kLabel + kWidth + 24, height);
  for (int h = 0; h <= 24; h += 3) {
    const int x = kLabel + kWidth * h / 24;
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#e3e6ea\"/>"
        "<text x=\"{0}\" y=\"14\" font-size=\"11\" text-anchor=\"middle\" "
        "fill=\"#778\">+{3}h</text>\n",
        x, kTop - 4, height - 4, h);
  }
  const double span = std::chrono::duration<double>(kTimelineSpan).count();
  for (size_t i = 0; i < forecast.size(); ++i) {
    const auto& f = forecast[i];
    const int y = kTop + kRow * static_cast<int>(i);
    out += fmt::format(
        "<g class=\"endpoint\" data-endpoint=\"{0}\" data-sends=\"{1}\">"
        "<text x=\"0\" y=\"{2}\" font-size=\"12\">{0} ({1})</text>"
        "<line x1=\"{3}\" y1=\"{4}\" x2=\"{5}\" y2=\"{4}\" stroke=\"#c9ced6\"/>\n",
        EndpointName(f.endpoint.app, f.endpoint.target), f.sends.size(), y + 15, kLabel, y + 11,
        kLabel + kWidth);
    for (TimePoint t : f.sends) {
      const double at = std::chrono::duration<double>(t - r.now.wall).count() / span;
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{}\" width=\"2\" height=\"14\" fill=\"#3d7be0\">"
          "<title>{}</title></rect>",
          kLabel + at * kWidth, y + 4, Time(t));
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  for (const auto& f : forecast) {
    if (f.exact_until) {
      out += "<p class=\"muted\">" + EndpointName(f.endpoint.app, f.endpoint.target) +
             ": more queued jobs than the forecast simulates; the sends of jobs due from " +
             Time(*f.exact_until) + " on are not shown.</p>\n";
    }
  }
}

void Unknown(std::string& out, const StatusReport& r) {
  out += fmt::format("<h2>Unknown jobs ({})</h2>\n", r.unknown_jobs);
  if (r.jobs.empty()) {
    out += "<p class=\"muted\">None: nothing needs a decision.</p>\n";
    return;
  }
  out +=
      "<p>The request may have reached the server. Check on the server, then run one "
      "of the commands.</p>\n<table id=\"unknown\"><tr><th>Job</th><th>Campaign</th>"
      "<th>Broadcast</th><th>Endpoint</th><th>Last error</th><th>Resolve with</th></tr>\n";
  for (const auto& j : r.jobs) {
    const JobRow& row = j.row;
    out += fmt::format(
        "<tr data-job=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td>"
        "<td><code>broadcastd --resolve-sent {0} --broadcast-id ID</code><br>"
        "<code>broadcastd --resolve-not-sent {0}</code></td></tr>\n",
        row.id, HtmlEscape(row.campaign_id), HtmlEscape(row.broadcast),
        EndpointName(row.app, row.target), HtmlEscape(row.last_error));
  }
  out += "</table>\n";
  if (r.next_cursor) {
    out += "<p class=\"muted\">More: <code>broadcastd --status --state unknown</code></p>\n";
  }
}

void Campaigns(std::string& out, const StatusReport& r) {
  out += fmt::format("<h2>Campaign files with problems ({})</h2>\n", r.campaign_problems.size());
  if (r.campaign_problems.empty()) {
    out += "<p class=\"muted\">None.</p>\n";
    return;
  }
  out += "<table id=\"campaigns\"><tr><th>File</th><th>Status</th><th>Error</th></tr>\n";
  for (const auto& c : r.campaign_problems) {
    out += fmt::format(
        "<tr data-file=\"{0}\"><td>{0}</td><td class=\"bad\">{1}</td><td><pre>{2}</pre></td>"
        "</tr>\n",
        HtmlEscape(c.file), HtmlEscape(CampaignStatusName(c.status)), HtmlEscape(c.last_error));
  }
  out += "</table>\n";
}

// Signed campaigns: the campaigns whose jobs wait for signers.
void SignatureHolds(std::string& out, const StatusReport& r) {
  if (r.signature_holds.empty()) return;
  out += fmt::format("<h2>Campaigns waiting for signatures ({})</h2>\n", r.signature_holds.size());
  out +=
      "<table id=\"signature-holds\"><tr><th>Campaign</th><th>File</th><th>Jobs</th>"
      "<th>Signed by</th><th>Held</th></tr>\n";
  for (const auto& h : r.signature_holds) {
    out += fmt::format(
        "<tr data-campaign=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>"
        "<td class=\"bad\">{4}<pre>{5}</pre></td></tr>\n",
        HtmlEscape(h.campaign_id), HtmlEscape(h.file), h.queued, HtmlEscape(h.signers),
        HtmlEscape(h.reason), HtmlEscape(h.problems));
  }
  out += "</table>\n";
}

// Shown only while a new queue holds campaigns: nothing of theirs goes out until confirmed.
void Adopted(std::string& out, const StatusReport& r) {
  if (r.adopted.empty()) return;
  out += fmt::format("<h2>Adopted campaigns, held ({})</h2>\n", r.adopted.size());
  out +=
      "<p>A new queue found these in the folder; they may have gone out from a queue that was "
      "lost. Nothing of theirs is sent until confirmed.</p>\n<table id=\"adopted\"><tr>"
      "<th>Campaign</th><th>File</th><th>Queued</th><th>Since</th><th>Send with</th></tr>\n";
  for (const auto& c : r.adopted) {
    out += fmt::format(
        "<tr data-campaign=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>"
        "<td><code>broadcastd --confirm {0}</code></td></tr>\n",
        HtmlEscape(c.campaign_id), HtmlEscape(c.file), c.queued_jobs, Time(c.since));
  }
  out += "</table>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view raw) {
  const std::string text = EscapeControl(raw);  // stored text need not be UTF-8
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderStatusPage(const StatusReport& r, const std::vector<EndpointForecast>& forecast) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>broadcastd status</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<h1>broadcastd</h1>\n";
  out += fmt::format(
      "<p class=\"muted\">Status at <time id=\"now\">{}</time>; daemon {}; database {}</p>\n",
      Time(r.now.wall),
      r.daemon_pid ? "running (pid " + std::to_string(*r.daemon_pid) + ")" : "not running",
      HtmlEscape(r.database));
  out += "<p id=\"queue\">";
  for (const auto& [state, n] : r.jobs_by_state) {
    out += fmt::format("<span data-state=\"{0}\">{0} <b>{1}</b></span> &nbsp; ", state, n);
  }
  out += "</p>\n";
  Lease(out, r);
  Warnings(out, r);
  Adopted(out, r);
  Endpoints(out, r);
  Timeline(out, r, forecast);
  Unknown(out, r);
  Campaigns(out, r);
  SignatureHolds(out, r);
  out += "</body></html>\n";
  return out;
}

}  // namespace broadcastd
