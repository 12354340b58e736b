// Every JSON example in docs/cni.md is a configuration netctl accepts, so the documentation
// cannot drift from the parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "netctl/cni/config.h"

#ifndef NETCTL_SOURCE_DIR
#define NETCTL_SOURCE_DIR "/work/main"
#endif

using namespace netctl::cni;

TEST(CniDocs, EveryJsonExampleParses) {
  std::ifstream f(NETCTL_SOURCE_DIR "/docs/cni.md");
  ASSERT_TRUE(f) << "docs/cni.md missing";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  int examples = 0;
  size_t pos = 0;
  while ((pos = text.find("```json\n", pos)) != std::string::npos) {
    pos += 8;
    size_t end = text.find("```", pos);
    ASSERT_NE(end, std::string::npos);
    std::string block = text.substr(pos, end - pos);
    pos = end + 3;
    ++examples;
    if (block.find("\"plugins\"") != std::string::npos) {
      auto list = parseConfList(block);
      ASSERT_TRUE(list) << list.error().msg << "\n" << block;
      for (size_t i = 0; i < list->plugins.size(); ++i) {
        if (list->plugins[i]["type"] != "netctl") continue;
        auto c = parseNetConf(requestConfig(*list, i));
        EXPECT_TRUE(c) << c.error().msg << " " << c.error().details << "\n" << block;
      }
    } else {
      auto c = parseNetConf(block);
      EXPECT_TRUE(c) << c.error().msg << " " << c.error().details << "\n" << block;
    }
  }
  EXPECT_GE(examples, 4);
}
