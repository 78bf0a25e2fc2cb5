// Which parameter groups train: one flag per group of the parameter layout (embeddings,
// encoder.0 .., pooler, head), parsed from the --train / --freeze lists.
#pragma once

#include <string>
#include <vector>

#include "model/bert_params.h"

namespace ft {

// Trainable flags, one per layout group (embeddings, encoder.0.., pooler, head).
using TrainableGroups = std::vector<bool>;

// Parses "--train"/"--freeze" lists: "all", "head", "pooler", "embeddings", "encoder",
// "encoder.3", "encoder.8-11", comma-separated. Unknown names are an error listing the valid ones.
// An empty (or blank) train list means "all"; the freeze list is applied after it. A result with
// no trainable group is an error.
TrainableGroups parse_trainable(const BertParamLayout& layout, const std::string& train_list,
                                const std::string& freeze_list);

}  // namespace ft
