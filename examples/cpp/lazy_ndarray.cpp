// The seed document's imperative and symbolic snippets, in C++ over the C ABI.
#include <mx/mx.hpp>

#include <cstdio>

int main() {
  try {
    // Imperative: every operation returns at once; reading the values waits.
    mx::NDArray a = mx::NDArray::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    mx::NDArray b = a * 2 + 1;
    mx::NDArray c = mx::Operator("dot").Set("transpose_b", true).Invoke({a, b})[0];
    std::printf("b = ");
    for (float v : b.ToVector<float>()) std::printf("%g ", v);
    std::printf("\nc = a . b^T = ");
    for (float v : c.ToVector<float>()) std::printf("%g ", v);
    std::printf("(shape %lldx%lld)\n", static_cast<long long>(c.shape()[0]),
                static_cast<long long>(c.shape()[1]));

    // Symbolic: c = (a + b) / 10 + 1, then bind, forward and backward.
    mx::Symbol A = mx::Symbol::Variable("A"), B = mx::Symbol::Variable("B");
    mx::Symbol net = (A + B) / 10 + 1;
    std::printf("arguments:");
    for (const auto& n : net.ListArguments()) std::printf(" %s", n.c_str());
    std::printf("\noutputs: %s\n", net.ListOutputs()[0].c_str());
    auto shapes = net.InferShape({{"A", {10}}, {"B", {10}}});
    std::printf("inferred output shape: (%lld,)\n", static_cast<long long>(shapes.outputs[0][0]));
    mx::Executor exec = net.SimpleBind(mx::Context::CPU(), {{"A", {10}}, {"B", {10}}});
    auto args = exec.ArgArrays();
    args[0].CopyFrom(std::vector<float>(10, 1.0f));
    args[1].CopyFrom(std::vector<float>(10, 2.0f));
    exec.Forward(true);
    exec.Backward({mx::NDArray::FromVector(std::vector<float>(10, 1.0f), {10})});
    std::printf("forward: %g, gradient of A: %g, of B: %g\n",
                exec.Outputs()[0].ToVector<float>()[0], exec.GradArrays()[0].ToVector<float>()[0],
                exec.GradArrays()[1].ToVector<float>()[0]);
    return 0;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
