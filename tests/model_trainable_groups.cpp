// parse_trainable: the --train / --freeze lists onto the layout's groups
// (embeddings, encoder.0 .. encoder.L-1, pooler, head).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "model/bert_params.h"
#include "model/bert_regressor.h"

namespace ft {
namespace {

BertParamLayout layout_with_layers(int layers) {
  BertConfig c;
  c.vocab_size = 11;
  c.hidden_size = 4;
  c.num_attention_heads = 2;
  c.intermediate_size = 8;
  c.num_hidden_layers = layers;
  c.max_position_embeddings = 8;
  return bert_param_layout(c);
}

// Groups as a string of 0/1: embeddings, encoder.0.., pooler, head.
std::string flags(const TrainableGroups& t) {
  std::string s;
  for (bool b : t) s += b ? '1' : '0';
  return s;
}

TEST(ParseTrainable, NamesAndRanges) {
  const BertParamLayout layout = layout_with_layers(4);  // 7 groups
  EXPECT_EQ(flags(parse_trainable(layout, "all", "")), "1111111");
  EXPECT_EQ(flags(parse_trainable(layout, "", "")), "1111111");
  EXPECT_EQ(flags(parse_trainable(layout, "head", "")), "0000001");
  EXPECT_EQ(flags(parse_trainable(layout, "pooler,head", "")), "0000011");
  EXPECT_EQ(flags(parse_trainable(layout, "embeddings", "")), "1000000");
  EXPECT_EQ(flags(parse_trainable(layout, "encoder", "")), "0111100");
  EXPECT_EQ(flags(parse_trainable(layout, "encoder.2", "")), "0001000");
  EXPECT_EQ(flags(parse_trainable(layout, " encoder.2-3 , head ", "")), "0001101");
}

TEST(ParseTrainable, FreezeAppliesAfterTrain) {
  const BertParamLayout layout = layout_with_layers(4);
  EXPECT_EQ(flags(parse_trainable(layout, "all", "embeddings,encoder.0-1")), "0001111");
  EXPECT_EQ(flags(parse_trainable(layout, "", "encoder")), "1000011");
  EXPECT_EQ(flags(parse_trainable(layout, "encoder", "encoder.3")), "0111000");
}

TEST(ParseTrainable, BadNamesAreErrorsListingTheValidOnes) {
  const BertParamLayout layout = layout_with_layers(4);
  for (const char* bad : {"heads", "encoder.4", "encoder.3-2", "encoder.x", "encoder.1-", "head,,pooler", "encoder.-1"}) {
    try {
      parse_trainable(layout, bad, "");
      ADD_FAILURE() << "no error for --train \"" << bad << "\"";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("--train"), std::string::npos) << what;
    }
  }
  try {
    parse_trainable(layout, "heads", "");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("valid names"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_trainable(layout, "all", "bogus"), Error);
}

TEST(ParseTrainable, NothingLeftToTrainIsAnError) {
  const BertParamLayout layout = layout_with_layers(2);
  EXPECT_THROW(parse_trainable(layout, "head", "head"), Error);
  EXPECT_THROW(parse_trainable(layout, "all", "all"), Error);
}

}  // namespace
}  // namespace ft
