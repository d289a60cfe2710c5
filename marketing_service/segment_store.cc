#include "marketing_service/segment_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/row_table.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;

constexpr absl::string_view kSegmentColumns =
    "segment_id, name, description, criteria, version, UNIX_TIMESTAMP(created_at)";
constexpr absl::string_view kInsertSegment =
    "INSERT INTO segments (name, description, criteria) VALUES (?, ?, ?)";

v1::Segment SegmentFromRow(sql::ResultSet& rs) {
  v1::Segment s;
  s.set_segment_id(rs.getInt64(1));
  s.set_name(rs.getString(2));
  s.set_description(rs.getString(3));
  s.mutable_criteria()->ParseFromString(std::string(rs.getString(4)));
  s.set_etag(absl::StrCat(rs.getInt64(5)));
  *s.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(6)));
  return s;
}

const common::RowTable<v1::Segment> kSegments{kSegmentColumns, "segments", "segment_id", "segment",
                                              &SegmentFromRow};

}  // namespace

absl::StatusOr<v1::Segment> SegmentStore::Create(const v1::Segment& segment,
                                                 const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Segment>(
      *pool_, "CreateSegment", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Segment> {
        auto st = Prepare(conn, kInsertSegment);
        st->setString(1, segment.name());
        st->setString(2, segment.description());
        std::istringstream blob(segment.criteria().SerializeAsString());
        st->setBlob(3, &blob);
        return common::InsertThenRead(
            conn, *st, kSegments,
            absl::StrCat("segment.name: a segment named '", segment.name(), "' exists"));
      });
}

absl::StatusOr<v1::Segment> SegmentStore::Get(int64_t segment_id) {
  return common::ReadById(*pool_, kSegments, segment_id);
}

absl::StatusOr<v1::ListSegmentsResponse> SegmentStore::List(int page_size,
                                                            const std::string& page_token) {
  return common::KeysetQuery(kSegmentColumns, "segments", "segment_id")
      .Page(*pool_, "segments", page_token, page_size, &SegmentFromRow,
            &v1::ListSegmentsResponse::mutable_segments, &v1::Segment::segment_id);
}

}  // namespace funnel::marketing
