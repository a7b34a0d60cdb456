// Store: app notices (what keeps an app from sending, for --status).

#include "store/sql_access.h"

namespace broadcastd {

Status Store::SetAppNotice(const AppNotice& notice) {
  return Write("record notice for app " + notice.app, [&]() -> Status {
    sql::Statement q(*db_,
                     "INSERT INTO app_notices (app, kind, message, since) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (app, kind) DO UPDATE SET message = excluded.message");
    q.bind(1, notice.app);
    q.bind(2, notice.kind);
    q.bind(3, notice.message);
    q.bind(4, ToMillis(notice.since));
    q.exec();
    return {};
  });
}

Status Store::ClearAppNotice(const std::string& app, const std::string& kind) {
  return Write("clear notice for app " + app, [&]() -> Status {
    sql::Statement q(*db_, "DELETE FROM app_notices WHERE (?1 = '' OR app = ?1) AND kind = ?2");
    q.bind(1, app);
    q.bind(2, kind);
    q.exec();
    return {};
  });
}

Result<std::vector<Store::AppNotice>> Store::AppNotices() {
  return Read("list app notices", [&]() -> Result<std::vector<AppNotice>> {
    sql::Statement q(*db_, "SELECT app, kind, message, since FROM app_notices ORDER BY app, kind");
    std::vector<AppNotice> rows;
    while (q.executeStep()) {
      rows.push_back(AppNotice{q.getColumn(0).getString(), q.getColumn(1).getString(),
                               q.getColumn(2).getString(), Time(q.getColumn(3))});
    }
    return rows;
  });
}

}  // namespace broadcastd
