// FUZZ_CHECK for the libFuzzer targets of tests/fuzz: a property that fails stops the run with a
// message, and libFuzzer writes the input that broke it (crash-<sha1>) for replay.
//
//   FUZZ_CHECK(decoded.ok(), "Base32Decode rejected what Base32Encode wrote");
#ifndef TURNOUT_TESTS_FUZZ_FUZZ_CHECK_H_
#define TURNOUT_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, message)                                                          \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "%s:%d: property failed: %s\n  (%s)\n", __FILE__, __LINE__, message, \
                   #condition);                                                                 \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

#endif  // TURNOUT_TESTS_FUZZ_FUZZ_CHECK_H_
