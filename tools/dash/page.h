// The one page of turnout-dash (tools/dash/page.html, embedded at build time), rendered in a
// language: <html lang> and the labels are filled in; the counts come later over /events.
#ifndef TURNOUT_TOOLS_DASH_PAGE_H_
#define TURNOUT_TOOLS_DASH_PAGE_H_

#include <string>

#include "tools/dash/strings.h"

namespace turnout::dash {

// The page's HTML with its language and labels in place.
std::string RenderPage(Language language);

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_PAGE_H_
