#pragma once
#include "console_files.hpp"
#include "core/http/router.hpp"

namespace deliveryhub::app {

/// The browser console at /app/: GET /app/ is index.html, GET /app/<path> each embedded file
/// (at most two segments deep, e.g. /app/views/orders.js); anything else below /app/ is 404.
/// Every answer carries the console's Content-Security-Policy (scripts, styles and requests of
/// its own origin only; no inline script or style; not framed), nosniff, no referrer, and an
/// ETag that If-None-Match turns into 304. `files`: the files to serve.
void add_console_routes(core::http::Router& router, const std::vector<ConsoleFile>& files);

/// The console's Content-Security-Policy.
inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

}  // namespace deliveryhub::app
