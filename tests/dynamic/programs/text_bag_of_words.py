"""A bag-of-embeddings text classifier on a synthetic vocabulary: a Dataset subclass that
returns dicts, the default collate of dicts, nn.Embedding, Adagrad and gradient clipping."""

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.nn.functional as F
from flowgraph.dynamic.utils.data import DataLoader, Dataset

torch.manual_seed(11)
VOCAB, LENGTH = 50, 12
# Words 0-24 lean to class 0, words 25-49 to class 1.


class SyntheticReviews(Dataset):
    def __init__(self, size):
        self.labels = torch.randint(0, 2, (size,))
        low = torch.randint(0, 25, (size, LENGTH))
        high = torch.randint(25, 50, (size, LENGTH))
        mix = torch.rand(size, LENGTH) < 0.8
        pick_high = torch.where(self.labels.unsqueeze(1) == 1, mix, ~mix)
        self.tokens = torch.where(pick_high, high, low)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"tokens": self.tokens[idx], "label": self.labels[idx].item()}


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab, dim, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens).mean(dim=1))


train_loader = DataLoader(SyntheticReviews(512), batch_size=32, shuffle=True)
test_data = SyntheticReviews(200)
model = BagOfEmbeddings(VOCAB, 8, 2)
optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)

for epoch in range(3):
    for batch in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch["tokens"]), batch["label"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")

with torch.no_grad():
    logits = model(test_data.tokens)
    final_accuracy = (logits.argmax(1) == test_data.labels).float().mean().item()
    final_loss = F.cross_entropy(logits, test_data.labels).item()
print(f"test accuracy {final_accuracy:.3f}")
