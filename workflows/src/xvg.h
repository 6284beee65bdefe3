#pragma once
// .xvg tables as gmx tools write them (Grace format): '#' comment lines,
// '@' lines for title, axis labels and one legend per data set, then one
// line of numbers per row. gmx analyze, gmx xvg tools and xmgrace read them.
#include <fmt/format.h>

#include <string>
#include <vector>

namespace activediff::cli {

inline std::string xvgHeader(const std::string& title, const std::string& xLabel, const std::string& yLabel,
                             const std::vector<std::string>& legends, const std::string& commandLine) {
  const auto quoted = [](std::string text) {
    for (char& c : text)
      if (c == '"') c = '\'';
    return "\"" + text + "\"";
  };
  std::string text = "# This file was created by activediff\n# Command line:\n#   " + commandLine + "\n";
  text += "@    title " + quoted(title) + "\n";
  text += "@    xaxis  label " + quoted(xLabel) + "\n";
  text += "@    yaxis  label " + quoted(yLabel) + "\n";
  text += "@TYPE xy\n@ view 0.15, 0.15, 0.75, 0.85\n@ legend on\n@ legend box on\n@ legend loctype view\n";
  text += "@ legend 0.78, 0.8\n@ legend length 2\n";
  for (std::size_t k = 0; k < legends.size(); ++k) text += fmt::format("@ s{} legend {}\n", k, quoted(legends[k]));
  return text;
}

}  // namespace activediff::cli
