// The learning-rate schedule and gradient clipping of Hugging Face Trainer, as plain functions.
#pragma once

#include <cstdint>

namespace ft {

// transformers.get_linear_schedule_with_warmup: the learning rate of the optimizer step that
// follows `completed_steps` earlier steps (the scheduler's counter: 0 for the first step).
//   completed < warmup:  base_lr * completed / max(1, warmup)      (so a warmed-up first step has lr 0)
//   otherwise:           base_lr * max(0, (total - completed) / max(1, total - warmup))
double linear_schedule_lr(double base_lr, int64_t completed_steps, int64_t warmup_steps, int64_t total_steps);

// torch.nn.utils.clip_grad_norm_: the factor the gradients are multiplied by, given their global L2
// norm: min(1, max_norm / (total_norm + 1e-6)). max_norm <= 0 disables clipping (factor 1), as
// HF Trainer does for max_grad_norm 0. A non-finite norm is returned as a non-finite factor so the
// caller can report it (torch would silently poison the parameters).
double clip_coefficient(double total_norm, double max_norm);

}  // namespace ft
