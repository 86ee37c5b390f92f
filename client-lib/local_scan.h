// One scan as the door device keeps it (docs/door-protocol.md §6): the upload queue's row, and
// what the device's offline decisions and counts learn from its own scans. Ids and statuses only:
// never a name, and the code only while the scan waits to be uploaded.
#ifndef TURNOUT_CLIENT_LIB_LOCAL_SCAN_H_
#define TURNOUT_CLIENT_LIB_LOCAL_SCAN_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::client {

// Where a scan stands with the server. Stored by these numbers.
enum class UploadState : int {
  kAnsweredOnline = 0,  // the server decided it: nothing to upload
  kQueued = 1,          // decided on this device, waiting for UploadScans
  kUploaded = 2,        // uploaded; canonical_status holds the server's answer
  kFailed = 3,          // the server refused the row as a request (error); never retried
};

struct LocalScan {
  int64_t seq = 0;  // this device's order of recording; set by the store
  std::string client_scan_id;
  // The code as read: kept only while kQueued (UploadScans needs it), erased once uploaded.
  std::string code;
  // "events/{event}/registrations/{registration}" when known (from the entry or the answer).
  std::string registration;
  // The code's ticket id (hex), when the code could be read.
  std::string ticket_id;
  // As sent to the server: "" is the entrance.
  std::string checkpoint;
  v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY;
  absl::Time scan_time;
  UploadState upload = UploadState::kQueued;
  // What this device showed.
  v1::ScanResult::Status device_status = v1::ScanResult::STATUS_UNSPECIFIED;
  // The server's answer, once known (online, or from the upload); it may differ from the device's.
  v1::ScanResult::Status canonical_status = v1::ScanResult::STATUS_UNSPECIFIED;
  // "events/{event}/scans/{scan}", once the server has the scan (for AnnulScan).
  std::string scan_name;
  // Why the server refused the row (kFailed); no personal data.
  std::string error;
  bool annulled = false;
  // What this scan changed, as far as this device knows, in the checkpoint's inside count: +1 an
  // admission, -1 the exit of someone inside, else 0.
  int inside_delta = 0;

  // The status that settles presence: the server's when known, else the device's.
  v1::ScanResult::Status EffectiveStatus() const {
    return canonical_status != v1::ScanResult::STATUS_UNSPECIFIED ? canonical_status
                                                                  : device_status;
  }
};

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_LOCAL_SCAN_H_
