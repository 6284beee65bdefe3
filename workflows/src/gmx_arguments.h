#pragma once
// GROMACS-style options on the activediff command line. gmx users type
// `-dt 10` (one dash, two letters), which CLI11 cannot declare as a short
// option; so argv is rewritten before parsing. Options that are one letter
// in gmx (-b, -e, -f, -s, -o, -n) need nothing: CLI11 takes them as they are.
namespace activediff::cli {

// Rewrites argv in place: "-dt" -> "--dt" and "-dt=X" -> "--dt=X", up to a
// lone "--" (after which arguments are left alone). Safe to call twice.
void rewriteGromacsStyleArguments(int argc, char** argv);

}  // namespace activediff::cli
