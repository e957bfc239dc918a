#include "op/invoke.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <utility>

namespace mx {
namespace {

std::string ShapesToString(const std::vector<std::string>& names, const std::vector<Shape>& s) {
  std::ostringstream os;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) os << ", ";
    if (i < names.size()) os << names[i] << "=";
    os << s[i];
  }
  return os.str();
}

}  // namespace

void InferOpShapes(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Op* op = attrs.op;
  bool complete = false;
  try {
    complete = op->infer_shape(attrs, in, out);
  } catch (const Error& e) {
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "': " << e.what()
                               << " (inputs: " << ShapesToString(op->InputNames(attrs), *in) << ")";
  }
  bool known = complete;
  for (const Shape& s : *out) known = known && s.IsKnown();
  MX_CHECK(known, kInvalidArgument)
      << "operator '" << op->name << "': cannot infer the output shapes from inputs "
      << ShapesToString(op->InputNames(attrs), *in);
}

void InferOpTypes(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const Op* op = attrs.op;
  bool complete = false;
  try {
    complete = op->infer_type(attrs, in, out);
  } catch (const Error& e) {
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "': " << e.what();
  }
  for (int t : *out) complete = complete && t >= 0;
  MX_CHECK(complete, kInvalidArgument)
      << "operator '" << op->name << "': cannot infer the output types";
}

void Invoke(NodeAttrs attrs, const std::vector<NDArray>& inputs, std::vector<NDArray>* outputs,
            bool is_train, Context ctx) {
  const Op* op = attrs.op;
  const int n_in = op->NumInputs(attrs);
  const int n_out = op->NumOutputs(attrs);
  if (static_cast<int>(inputs.size()) != n_in) {
    std::ostringstream names;
    for (const auto& n : op->InputNames(attrs)) names << (names.tellp() ? ", " : "") << n;
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "' takes " << n_in << " inputs ("
                               << names.str() << "), got " << inputs.size();
  }
  // Callers may pass just the visible outputs: the hidden ones (Op::SetNumVisibleOutputs) are
  // then allocated here and dropped after the push (the engine keeps their memory until the op
  // has run).
  const int n_visible = op->NumVisibleOutputs(attrs);
  const bool drop_hidden = n_visible < n_out && static_cast<int>(outputs->size()) == n_visible;
  if (outputs->empty() || drop_hidden) outputs->resize(n_out);
  MX_CHECK(static_cast<int>(outputs->size()) == n_out, kInvalidArgument)
      << "operator '" << op->name << "' has " << n_visible << " outputs"
      << (n_visible < n_out ? " (and " + std::to_string(n_out - n_visible) + " hidden)" : "")
      << ", got " << outputs->size();

  // The device: the inputs', else a given output's, else `ctx`.
  for (const NDArray& a : inputs) {
    MX_CHECK(!a.is_none(), kInvalidArgument) << "operator '" << op->name << "': an input is empty";
  }
  if (!inputs.empty()) {
    ctx = inputs[0].ctx();
  } else {
    for (const NDArray& o : *outputs) {
      if (!o.is_none()) {
        ctx = o.ctx();
        break;
      }
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(inputs[i].ctx() == ctx, kInvalidArgument)
        << "operator '" << op->name << "': input " << i << " is on " << inputs[i].ctx()
        << " but input 0 is on " << ctx << "; copy it first";
  }

  std::vector<Shape> in_shapes, out_shapes(n_out, Shape::Unknown());
  std::vector<int> in_types, out_types(n_out, -1);
  in_shapes.reserve(n_in);
  in_types.reserve(n_in);
  for (const NDArray& a : inputs) {
    in_shapes.push_back(a.shape());
    in_types.push_back(static_cast<int>(a.dtype()));
  }
  for (int i = 0; i < n_out; ++i) {
    if (!(*outputs)[i].is_none()) {
      out_shapes[i] = (*outputs)[i].shape();
      out_types[i] = static_cast<int>((*outputs)[i].dtype());
    }
  }
  InferOpShapes(attrs, &in_shapes, &out_shapes);
  for (int i = 0; i < n_in; ++i) {
    if (in_shapes[i] == inputs[i].shape()) continue;
    std::vector<Shape> given;
    for (const NDArray& x : inputs) given.push_back(x.shape());
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "': input shapes "
                               << ShapesToString(op->InputNames(attrs), given)
                               << " are inconsistent (expected "
                               << ShapesToString(op->InputNames(attrs), in_shapes) << ")";
  }
  InferOpTypes(attrs, &in_types, &out_types);

  const FCompute* fn = op->Compute(ctx.dev_type);
  MX_CHECK(fn != nullptr, kUnsupported)
      << "operator '" << op->name << "' has no implementation for " << ctx;

  // Outputs: allocate missing ones; an output aliasing an input that may not be overwritten in
  // place gets a temporary, copied back after the op.
  std::vector<std::pair<int, int>> inplace;
  if (op->inplace) inplace = op->inplace(attrs);
  std::vector<NDArray> targets(n_out);
  std::vector<OpReq> req(n_out, OpReq::kWrite);
  std::vector<std::pair<NDArray, NDArray>> copy_back;
  for (int i = 0; i < n_out; ++i) {
    NDArray& o = (*outputs)[i];
    if (o.is_none()) {
      o = NDArray(out_shapes[i], ctx, static_cast<DType>(out_types[i]));
      targets[i] = o;
      continue;
    }
    MX_CHECK(o.shape() == out_shapes[i] && static_cast<int>(o.dtype()) == out_types[i],
             kInvalidArgument)
        << "operator '" << op->name << "': output " << i << " has shape " << o.shape() << " and "
        << DTypeName(o.dtype()) << ", expected " << out_shapes[i] << " and "
        << DTypeName(static_cast<DType>(out_types[i]));
    MX_CHECK(o.ctx() == ctx, kInvalidArgument)
        << "operator '" << op->name << "': output " << i << " is on " << o.ctx()
        << " but the inputs are on " << ctx;
    targets[i] = o;
    for (int j = 0; j < n_in; ++j) {
      if (!inputs[j].SharesChunkWith(o)) continue;
      const bool allowed =
          inputs[j].SameData(o) &&
          std::find(inplace.begin(), inplace.end(), std::make_pair(j, i)) != inplace.end();
      if (allowed) {
        req[i] = OpReq::kInplace;
      } else {
        targets[i] = NDArray(out_shapes[i], ctx, static_cast<DType>(out_types[i]));
        copy_back.emplace_back(targets[i], o);
        req[i] = OpReq::kWrite;
        break;
      }
    }
  }

  // Engine variables: inputs are read, outputs and mutated inputs written, resources written.
  std::vector<engine::VarHandle> reads, writes;
  std::vector<TBlob> in_blobs, out_blobs;
  for (const NDArray& a : inputs) {
    reads.push_back(a.var());
    in_blobs.push_back(a.data());
  }
  if (op->mutate_inputs) {
    for (int idx : op->mutate_inputs(attrs)) writes.push_back(inputs[idx].var());
  }
  for (const NDArray& t : targets) {
    writes.push_back(t.var());
    out_blobs.push_back(t.data());
  }
  std::vector<Resource> resources;
  if (op->resources) {
    for (ResourceType type : op->resources(attrs)) {
      resources.push_back(ResourceManager::Get()->Request(ctx, type));
      writes.push_back(resources.back().var);
    }
  }

  // One allocation carries everything the op needs when it runs; the attributes move into it
  // rather than being copied (their name and parameter map are several allocations per op).
  struct Call {
    NodeAttrs attrs;
    const FCompute* fn;
    std::vector<TBlob> in, out;
    std::vector<OpReq> req;
    std::vector<Resource> resources;
    bool is_train;
  };
  auto call =
      std::make_shared<Call>(Call{std::move(attrs), fn, std::move(in_blobs), std::move(out_blobs),
                                  std::move(req), std::move(resources), is_train});
  engine::Engine::Get()->PushSync(
      [call](const engine::RunContext& rctx) {
        OpContext octx;
        octx.run = rctx;
        octx.is_train = call->is_train;
        octx.requested = &call->resources;
        (*call->fn)(call->attrs, octx, call->in, call->req, call->out);
      },
      ctx, reads.data(), static_cast<int>(reads.size()), writes.data(),
      static_cast<int>(writes.size()), engine::FnProperty::kNormal, 0, op->name.c_str());

  for (auto& cb : copy_back) NDArray::CopyFromTo(cb.first, cb.second);
  if (drop_hidden) outputs->resize(n_visible);
}

}  // namespace mx
