"""The same digits task the PyTorch way: a Module subclass, a DataLoader and a hand-written loop of
zero_grad / forward / loss / backward / step, then accuracy with fusednn.metrics.

    pip install ".[examples]" && python examples/03_pytorch_style_loop.py
"""
import fusednn as fnn
from fusednn import nn
from fusednn.nn import functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 128, activation="relu")
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        return self.out(self.hidden(x))


def main(small=False, verbose=1):
    fnn.random.seed(0)
    x, y = fnn.data.load_digits()
    x_train, x_test, y_train, y_test = fnn.data.train_test_split(x / 16.0, y, test_size=0.2, stratify=y,
                                                                  random_state=0)
    loader = fnn.data.DataLoader(fnn.data.TensorDataset(x_train, y_train), batch_size=32, shuffle=True, seed=0)
    model = MLP()
    optimizer = fnn.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(10 if small else 25):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * xb.shape[0]
        if verbose:
            print(f"epoch {epoch + 1}: loss {total / x_train.shape[0]:.4f}")
    model.eval()
    with fnn.no_grad():
        predicted = model(x_test).argmax(axis=1)
    accuracy = fnn.metrics.accuracy(y_test, predicted)
    print(f"test accuracy {accuracy:.2%}")
    return {"accuracy": float(accuracy)}


if __name__ == "__main__":
    main()
