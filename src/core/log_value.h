#pragma once
// Log lines are `event key=value key=value`, one per line, and searched by
// event name. A value that comes from a file, a file name, a config or a server
// must not be able to write a line of its own or a key of its own: LogValue
// makes any text safe to put after `key=`.

#include <string>
#include <string_view>

namespace broadcastd {

// `text` as is when it is a bare token (printable ASCII without spaces, quotes,
// backslashes or '='); otherwise in double quotes with \" \\ \n \r \t escaped,
// every other control character and every byte that is not part of valid UTF-8
// as \xNN. Valid non-ASCII UTF-8 is kept. The empty string is "".
std::string LogValue(std::string_view text);

// The same escaping without the quotes, for text inside an already quoted
// value or a free-text message: no control character, no raw newline survives.
std::string EscapeControl(std::string_view text);

}  // namespace broadcastd
