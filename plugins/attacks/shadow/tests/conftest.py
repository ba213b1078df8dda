import pytest

from feint.testing import MLPClassifier, toy_dataset


@pytest.fixture(scope="session")
def colour_model():
    """A numpy MLP on 3 x 6 x 6 'colour images' (blobs in [0, 1]): ``(clf, x, y)``."""
    x, y = toy_dataset(240, 3 * 6 * 6, 3, spread=0.1, random_state=0)
    x = x.reshape(-1, 3, 6, 6)
    clf = MLPClassifier((3, 6, 6), 3, random_state=0)
    clf.channel_index = 1
    clf.fit(x, y, batch_size=32, nb_epochs=30, random_state=0)
    clf.reset_counts()
    return clf, x, y
