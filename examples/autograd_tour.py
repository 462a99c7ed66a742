"""ember autograd tour: PyTorch-style tensors and autograd on NumPy.

Fits y = 3x^2 - 2x + 1 with gradient descent written the way the seeds write it
(weight = weight - learning_rate * gradient), then shows a gradient penalty (second derivative).
"""
import time

import ember as torch

torch.manual_seed(0)
x = torch.linspace(-1, 1, 200).unsqueeze(1)
y = 3 * x ** 2 - 2 * x + 1 + 0.05 * torch.randn(200, 1)

features = torch.cat([x ** 2, x, torch.ones_like(x)], dim=1)
weight = torch.zeros(3, 1, requires_grad=True)
learning_rate = 0.5
start = time.perf_counter()
for step in range(300):
    loss = ((features @ weight - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        weight -= learning_rate * weight.grad
    weight.grad.zero_()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")
print(f"fitted coefficients: {weight.detach().squeeze().tolist()}  (true: [3, -2, 1])")
print(f"300 steps in {time.perf_counter() - start:.3f} s")

# Higher-order gradients: d/dx of (d/dx sin(x)^2) at x = 0.5, via create_graph=True.
t = torch.tensor(0.5, requires_grad=True)
(g,) = torch.autograd.grad(torch.sin(t) ** 2, t, create_graph=True)
(h,) = torch.autograd.grad(g, t)
print(f"d/dx sin^2 = {g.item():.6f}, d2/dx2 sin^2 = {h.item():.6f}  (exact: {torch.sin(2 * t).item():.6f}, "
      f"{2 * torch.cos(2 * t).item():.6f})")
print(weight)
