// Enums whose values are stored in PostgreSQL carry their stored number as their value, and
// declare the range of valid numbers once:
//
//   enum class RegistrationStatus { kConfirmed = 1, kWaitlisted = 2, kCanceled = 3 };
//   template <> struct StoredRange<RegistrationStatus> {
//     static constexpr int kFirst = 1, kLast = 3;
//   };
//
// The store binds Stored(status) as a query parameter (SQL never writes a status literal) and
// reads a column back with FromStored<RegistrationStatus>(n).
#ifndef TURNOUT_SERVER_DOMAIN_STORED_H_
#define TURNOUT_SERVER_DOMAIN_STORED_H_

#include <stdexcept>
#include <string>
#include <type_traits>

namespace turnout::domain {

template <typename Enum>
struct StoredRange;  // specialized next to each stored enum

template <typename Enum>
constexpr int Stored(Enum value) {
  static_assert(std::is_enum_v<Enum>);
  return static_cast<int>(value);
}

// The enum stored as `n`. A number outside the enum's range means the row was not written by this
// code: it throws std::out_of_range (a transaction body then fails with INTERNAL).
template <typename Enum>
Enum FromStored(int n) {
  if (n < StoredRange<Enum>::kFirst || n > StoredRange<Enum>::kLast) {
    throw std::out_of_range("stored enum value " + std::to_string(n) + " is out of range");
  }
  return static_cast<Enum>(n);
}

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_STORED_H_
